"""Benchmark of `humansense serve`: what the WebSocket transport adds per turn, and N concurrent real-time sessions.

(a) The same conversation once through a loopback WebSocket and once through an
in-process paced source (same Session, same models): per turn, the time from
the user's last spoken sample leaving the sender to the first agent audio
arriving; the p50 difference is the transport's cost.
(b) N clients stream at once in real time: every session must be answered;
downstream gaps (a sentence arriving later than the client's 60 ms jitter
buffer allows) and the server loop's lag p99 are reported.

Run: ``python -m benchmarks.server_bench [--sessions 8]``; prints JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from typing import Any, AsyncIterator

import numpy as np
from websockets.asyncio.client import connect

from agent.clock import WallClock
from agent.config import load_config
from agent.media import AudioChunk, VideoFrame
from agent.models import Models
from agent.server import CompanionServer
from agent.session import Session
from agent.sinks.players import TimelinePlayer
from agent.synth import Line, Utterance, render_audio

PAUSE_S = 7.0  # long enough for each answer to finish, so no turn is cut short by the next line
LINES = [Line("Hello, I had a really rough day at work today.", PAUSE_S),
         Line("My manager criticized my project in front of everyone.", PAUSE_S),
         Line("But I got some good news tonight, my sister is getting married!", PAUSE_S),
         Line("Thanks for listening. What should I do tonight to relax?", PAUSE_S)]
TAIL_S = 20.0  # after the script, silence keeps flowing until every turn is answered (or this runs out)
FRAME = 512
JITTER_S = 0.06


def _end_frames(truth: list[Utterance]) -> list[int]:
    """Index of the frame holding each utterance's last sample."""
    return [int(u.end_s * 16000) // FRAME for u in truth]


def _pairs(ends: list[float], outs: list[float]) -> list[float | None]:
    """Per turn: ms from the speech end to the first agent audio before the next speech end (None: unanswered)."""
    lat: list[float | None] = []
    for i, end in enumerate(ends):
        nxt = ends[i + 1] if i + 1 < len(ends) else float("inf")
        first = next((o for o in outs if end < o < nxt), None)
        lat.append(None if first is None else (first - end) * 1000)
    return lat


def _answered(lat: list[float | None]) -> list[float]:
    return [x for x in lat if x is not None]


class _PacedSource:
    """In-process stand-in for the socket: the same frames at the same real-time pace, no transport."""
    live = True
    has_audio = True
    has_video = False

    def __init__(self, clock: WallClock, pcm: np.ndarray, end_frames: list[int]) -> None:
        self.clock, self.pcm, self.end_frames = clock, pcm, set(end_frames)
        self.sent_ends: list[float] = []

    async def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        t0 = time.perf_counter()
        for k, i in enumerate(range(0, len(self.pcm) - FRAME + 1, FRAME)):
            await asyncio.sleep(max(0.0, t0 + (i + FRAME) / 16000 - time.perf_counter()))
            if k in self.end_frames:
                self.sent_ends.append(time.perf_counter())
            yield AudioChunk(self.clock.now(), self.pcm[i: i + FRAME])

    async def aclose(self) -> None:
        return None


async def replay_run(models: Models, pcm: np.ndarray, truth: list[Utterance]) -> list[float | None]:
    clock = WallClock()
    source = _PacedSource(clock, pcm, _end_frames(truth))
    outs: list[float] = []
    player = TimelinePlayer(clock, None, lambda *_: outs.append(time.perf_counter()))
    await Session(models.config, models, source, clock=clock, player=player).run()
    return _pairs(source.sent_ends, outs)


async def ws_client(port: int, pcm: np.ndarray, truth: list[Utterance]) -> dict[str, Any]:
    ends = set(_end_frames(truth))
    sent_ends: list[float] = []
    audio: list[tuple[float, float, float]] = []  # arrival, server start t, duration
    headers: list[dict[str, Any]] = []
    transcripts = 0
    async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        json.loads(await ws.recv())

        async def receive() -> None:
            nonlocal transcripts
            async for message in ws:
                if isinstance(message, bytes):
                    h = headers.pop(0)
                    audio.append((time.perf_counter(), h["t"], h["samples"] / 16000))
                else:
                    data = json.loads(message)
                    if data["type"] == "agent_audio":
                        headers.append(data)
                    elif data["type"] == "transcript" and data.get("final"):
                        transcripts += 1
        receiver = asyncio.create_task(receive())
        t0 = time.perf_counter()
        padded = np.concatenate([pcm, np.zeros(int(TAIL_S * 16000), np.int16)])
        for k, i in enumerate(range(0, len(padded) - FRAME + 1, FRAME)):
            if i >= len(pcm) and len(_answered(_pairs(sent_ends, [a[0] for a in audio]))) == len(truth):
                break
            await asyncio.sleep(max(0.0, t0 + (i + FRAME) / 16000 - time.perf_counter()))
            await ws.send(b"\x01" + padded[i: i + FRAME].astype("<i2").tobytes())
            if k in ends:
                sent_ends.append(time.perf_counter())
        receiver.cancel()
    return {"latency_ms": _pairs(sent_ends, [a[0] for a in audio]), "gaps": _gaps(audio), "transcripts": transcripts}


def _gaps(audio: list[tuple[float, float, float]]) -> list[float]:
    """Late sentences within one answer: arrival later than back-to-back playback plus the jitter buffer allows."""
    gaps, run_arrival, run_t, prev_end = [], 0.0, 0.0, -1.0
    for arrival, t, duration in audio:
        if abs(t - prev_end) > 0.02:  # a new answer starts a new back-to-back run
            run_arrival, run_t = arrival, t
        else:
            late = (arrival - run_arrival) - (t - run_t) - JITTER_S
            if late > 0:
                gaps.append(late * 1000)
        prev_end = t + duration
    return gaps


class _LagProbe:
    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            self.samples.append((time.perf_counter() - t - 0.01) * 1000)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def p99(self) -> float:
        return float(np.percentile(self.samples, 99)) if self.samples else float("nan")


def _clients_in_thread(port: int, n: int, pcm: np.ndarray, truth: list[Utterance]) -> list[dict[str, Any]]:
    """Clients on their own loop and thread, so their work does not show up as server loop lag."""
    result: list[dict[str, Any]] = []

    def run() -> None:
        async def all_clients() -> list[dict[str, Any]]:
            return list(await asyncio.gather(*(ws_client(port, pcm, truth) for _ in range(n))))
        result.extend(asyncio.run(all_clients()))
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result


async def main_async(sessions: int) -> dict[str, Any]:
    cfg = load_config(None, ["output.terminal=false"])
    models = await asyncio.to_thread(Models.load, cfg)
    pcm, truth = render_audio(LINES)
    server = CompanionServer(cfg, models)
    ws_server = await server.start("127.0.0.1", 0)
    port = ws_server.sockets[0].getsockname()[1]
    try:
        replay = await replay_run(models, pcm, truth)
        single = (await asyncio.to_thread(_clients_in_thread, port, 1, pcm, truth))[0]
        probe = _LagProbe()
        probe.start()
        many = await asyncio.to_thread(_clients_in_thread, port, sessions, pcm, truth)
    finally:
        ws_server.close()
        await ws_server.wait_closed()
        await models.aclose()
    gaps = [g for c in many for g in c["gaps"]]
    lat = [x for c in many for x in _answered(c["latency_ms"])]
    ws_lat, replay_lat = _answered(single["latency_ms"]), _answered(replay)
    paired = [w - r for w, r in zip(single["latency_ms"], replay) if w is not None and r is not None]
    return {
        "turns_per_session": len(truth),
        "transport": {
            "replay_first_audio_ms_p50": _p50(replay_lat),
            "websocket_first_audio_ms_p50": _p50(ws_lat),
            "added_ms_p50": _p50(paired),
            "replay_ms": _rounded(replay), "websocket_ms": _rounded(single["latency_ms"]),
        },
        "concurrent": {
            "sessions": sessions,
            "sessions_fully_answered": sum(len(_answered(c["latency_ms"])) == len(truth) for c in many),
            "turns_answered": len(lat),
            "first_audio_ms_p50": _p50(lat),
            "first_audio_ms_max": round(max(lat), 1) if lat else None,
            "downstream_gaps": len(gaps), "downstream_gap_ms_max": round(max(gaps), 1) if gaps else 0.0,
            "server_loop_lag_ms_p99": round(probe.p99(), 1),
        },
    }


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _rounded(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 1) for v in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help="concurrent real-time sessions (default 8)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args.sessions)), indent=2))


if __name__ == "__main__":
    main()
