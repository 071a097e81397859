"""Simulated companion clients for the server benchmarks: a scripted user speaking in real time over the WebSocket.

Each client connects to ``/ws``, waits for ``hello``, streams the script's 16 kHz PCM at real-time pace (then
silence until every turn is answered or ``TAIL_S`` runs out) and measures, per user turn, the time from its
last spoken sample leaving the client to the first agent audio arriving (``None``: unanswered).
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, TypeVar

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from agent.demo.synth import Line, Utterance
from agent.runtime.events import EventKind
from floor import SAMPLE_RATE, error_line

PAUSE_S = 7.0  # long enough for each answer to finish, so no turn is cut short by the next line
LINES = [Line("Hello, I had a really rough day at work today.", PAUSE_S),
         Line("My manager criticized my project in front of everyone.", PAUSE_S),
         Line("But I got some good news tonight, my sister is getting married!", PAUSE_S),
         Line("Thanks for listening. What should I do tonight to relax?", PAUSE_S)]
TAIL_S = 20.0  # after the script, silence keeps flowing until every turn is answered (or this runs out)
FRAME = 512
JITTER_S = 0.06
BUSY_CLOSE = 1013
T = TypeVar("T")


def url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/ws"


def end_frames(truth: list[Utterance]) -> list[int]:
    """Index of the frame holding each utterance's last sample."""
    return [int(u.end_s * SAMPLE_RATE) // FRAME for u in truth]


def pairs(ends: list[float], outs: list[float]) -> list[float | None]:
    """Per turn: ms from the speech end to the first agent audio before the next speech end (None: unanswered)."""
    lat: list[float | None] = []
    for i, end in enumerate(ends):
        nxt = ends[i + 1] if i + 1 < len(ends) else float("inf")
        first = next((o for o in outs if end < o < nxt), None)
        lat.append(None if first is None else (first - end) * 1000)
    return lat


def answered(lat: list[float | None]) -> list[float]:
    return [x for x in lat if x is not None]


def gaps(audio: list[tuple[float, float, float]]) -> list[float]:
    """Late sentences within one answer: arrival later than back-to-back playback plus the jitter buffer allows."""
    late_ms, run_arrival, run_t, prev_end = [], 0.0, 0.0, -1.0
    for arrival, t, duration in audio:
        if abs(t - prev_end) > 0.02:  # a new answer starts a new back-to-back run
            run_arrival, run_t = arrival, t
        else:
            late = (arrival - run_arrival) - (t - run_t) - JITTER_S
            if late > 0:
                late_ms.append(late * 1000)
        prev_end = t + duration
    return late_ms


async def ws_client(port: int, pcm: np.ndarray, truth: list[Utterance]) -> dict[str, Any]:
    """One conversation: ``latency_ms`` per turn, downstream ``gaps`` and the count of final ``transcripts``."""
    ends = set(end_frames(truth))
    sent_ends: list[float] = []
    audio: list[tuple[float, float, float]] = []  # arrival, server start t, duration
    headers: list[dict[str, Any]] = []
    transcripts = 0
    async with connect(url(port), max_size=None) as ws:
        first = json.loads(await ws.recv())
        if first.get("type") != "hello":
            raise ConnectionError(f"expected hello, got {first.get('type')!r}")

        async def receive() -> None:
            nonlocal transcripts
            async for message in ws:
                if isinstance(message, bytes):
                    h = headers.pop(0)
                    audio.append((time.perf_counter(), h["t"], h["samples"] / SAMPLE_RATE))
                else:
                    data = json.loads(message)
                    if data["type"] == "agent_audio":
                        headers.append(data)
                    elif data["type"] == EventKind.TRANSCRIPT and data.get("final"):
                        transcripts += 1
        receiver = asyncio.create_task(receive())
        t0 = time.perf_counter()
        padded = np.concatenate([pcm, np.zeros(int(TAIL_S * SAMPLE_RATE), np.int16)])
        for k, i in enumerate(range(0, len(padded) - FRAME + 1, FRAME)):
            if i >= len(pcm) and len(answered(pairs(sent_ends, [a[0] for a in audio]))) == len(truth):
                break
            await asyncio.sleep(max(0.0, t0 + (i + FRAME) / SAMPLE_RATE - time.perf_counter()))
            await ws.send(b"\x01" + padded[i: i + FRAME].astype("<i2").tobytes())
            if k in ends:
                sent_ends.append(time.perf_counter())
        receiver.cancel()
    return {"latency_ms": pairs(sent_ends, [a[0] for a in audio]), "gaps": gaps(audio), "transcripts": transcripts}


async def hold(port: int, ready: asyncio.Event, release: asyncio.Event) -> None:
    """Keep one session open (real-time silence, so it is neither idle nor ahead) until ``release``."""
    silence = b"\x01" + bytes(FRAME * 2)
    async with connect(url(port), max_size=None) as ws:
        first = json.loads(await ws.recv())
        if first.get("type") != "hello":
            raise ConnectionError(f"expected hello, got {first.get('type')!r}")
        ready.set()
        t0, k = time.perf_counter(), 0
        while not release.is_set():
            k += 1
            await asyncio.sleep(max(0.0, t0 + k * FRAME / SAMPLE_RATE - time.perf_counter()))
            await ws.send(silence)


@dataclass(frozen=True)
class Admission:
    """What one more client got: the first message's type and the close code (None: still open)."""
    first: str | None
    close_code: int | None

    @property
    def turned_away(self) -> bool:
        return self.first == "busy" and self.close_code == BUSY_CLOSE


async def try_admission(port: int, wait_s: float = 5.0) -> Admission:
    """Connect once and read the first message, then how the server ends the connection (or leave after wait_s)."""
    async with connect(url(port), max_size=None) as ws:
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), wait_s)).get("type")
        except ConnectionClosed:
            return Admission(None, ws.close_code)
        try:
            async with asyncio.timeout(wait_s):
                while True:
                    await ws.recv()
        except ConnectionClosed:
            return Admission(first, ws.close_code)
        except TimeoutError:
            return Admission(first, None)


def in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run clients on their own loop and thread, so their work does not show up as the server loop's lag."""
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(make())))
    thread.start()
    thread.join()
    if not result:
        raise RuntimeError("the client thread failed; see its traceback above")
    return result[0]


async def conversation(port: int, pcm: np.ndarray, truth: list[Utterance]) -> dict[str, Any]:
    """:func:`ws_client`, except that a failed connection is a result (every turn unanswered, ``error`` set)."""
    try:
        return await ws_client(port, pcm, truth)
    except (OSError, WebSocketException, TimeoutError) as exc:  # ConnectionError is an OSError
        return {"latency_ms": [None] * len(truth), "gaps": [], "transcripts": 0,
                "error": error_line(exc, typed=True)}


def clients_in_thread(port: int, n: int, pcm: np.ndarray, truth: list[Utterance]) -> list[dict[str, Any]]:
    async def all_clients() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(conversation(port, pcm, truth) for _ in range(n))))
    return in_thread(all_clients)
