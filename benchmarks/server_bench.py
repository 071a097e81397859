"""Benchmark of `humansense serve`: what the WebSocket transport adds per turn, N concurrent real-time sessions, and
the capacity: the most sessions a server answers in time.

(a) The same conversation once through a loopback WebSocket and once through an in-process paced source (same
Session, same models): per turn, the time from the user's last spoken sample leaving the sender to the first agent
audio arriving; the p50 difference is the transport's cost.
(b) N clients stream at once in real time: every session must be answered; downstream gaps (a sentence arriving
later than the client's 60 ms jitter buffer allows) and the server loop's lag p99 are reported.
(c) ``--sweep 1,2,3,4,6``: instead of (a) and (b), one uncounted warm-up conversation, then N concurrent real-time
sessions for each N (a fresh server each, admitting N when it has ``server.max_sessions``; the clients start
together, the hardest case); per N: answered turns of all, client-side voice-to-voice p50/p90 (last user sample
sent → first agent audio received) and the server loop's lag p99. The capacity is the largest N that, with every
smaller N swept, answers every turn with a v2v p90 ≤ 1.5 s.
``--over`` then checks that with C sessions held open on a server capped at the capacity C (at least 1), one more
client is turned away (``busy`` message, close 1013); skipped, with a note, where the server has no such cap.

Run: ``python -m benchmarks.server_bench [--sessions 8]`` or ``--sweep 1,2,3,4,6 [--over] [--out DIR]``; prints
JSON (and, for a sweep, a table to stderr); ``--out DIR`` also writes DIR/server_bench.json.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

import numpy as np

from agent.runtime.clock import WallClock
from agent.config import Config, load_config
from agent.files import atomic_write_json
from agent.media.chunks import AudioChunk, VideoFrame
from agent.runtime.metrics import LoopLagMonitor
from agent.runtime.lanes import Models
from agent.server.app import CompanionServer
from agent.conversation.session import Session
from agent.media.sinks.players import TimelinePlayer
from agent.demo.synth import Utterance, render_audio
from benchmarks.ws_clients import (FRAME, LINES, Admission, answered, clients_in_thread, end_frames, hold, in_thread,
                                   pairs, try_admission)
from floor import SAMPLE_RATE

V2V_P90_LIMIT_MS = 1500.0
MAX_SESSIONS_KEY = "server.max_sessions"
LAG_INTERVAL_MS = 10.0


class _PacedSource:
    """In-process stand-in for the socket: the same frames at the same real-time pace, no transport."""
    live = True
    has_audio = True
    has_video = False

    def __init__(self, clock: WallClock, pcm: np.ndarray, ends: list[int]) -> None:
        self.clock, self.pcm, self.end_frames = clock, pcm, set(ends)
        self.sent_ends: list[float] = []

    async def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        t0 = time.perf_counter()
        for k, i in enumerate(range(0, len(self.pcm) - FRAME + 1, FRAME)):
            await asyncio.sleep(max(0.0, t0 + (i + FRAME) / SAMPLE_RATE - time.perf_counter()))
            if k in self.end_frames:
                self.sent_ends.append(time.perf_counter())
            yield AudioChunk(self.clock.now(), self.pcm[i: i + FRAME])

    async def aclose(self) -> None:
        return None


async def replay_run(models: Models, pcm: np.ndarray, truth: list[Utterance]) -> list[float | None]:
    clock = WallClock()
    source = _PacedSource(clock, pcm, end_frames(truth))
    outs: list[float] = []
    player = TimelinePlayer(clock, None, lambda *_: outs.append(time.perf_counter()))
    await Session(models.config, models, source, clock=clock, player=player).run()
    return pairs(source.sent_ends, outs)


# ---- the server's admission cap (an older server has no server.max_sessions: it admits everyone) -------------
def overrides_for(sessions: int) -> list[str]:
    """Config overrides for a server that must admit ``sessions`` at once."""
    return ["output.terminal=false", f"{MAX_SESSIONS_KEY}={sessions}"]


async def load_models(cfg: Config) -> Models:
    """Loaded and warmed up as `humansense serve` does before it listens."""
    models = await asyncio.to_thread(Models.load, cfg)
    await models.warm_up_brain()
    return models


@asynccontextmanager
async def serving(cfg: Config, models: Models) -> AsyncIterator[int]:
    """A CompanionServer on a free loopback port for the block; yields the port."""
    ws_server = await CompanionServer(cfg, models).start("127.0.0.1", 0)
    try:
        yield ws_server.sockets[0].getsockname()[1]
    finally:
        ws_server.close()
        await ws_server.wait_closed()


# ---- (a) and (b) -----------------------------------------------------------------------------------------------
async def main_async(sessions: int) -> dict[str, Any]:
    cfg = load_config(None, overrides_for(sessions))
    models = await load_models(cfg)
    pcm, truth = render_audio(LINES)
    try:
        async with serving(cfg, models) as port:
            replay = await replay_run(models, pcm, truth)
            single = (await asyncio.to_thread(clients_in_thread, port, 1, pcm, truth))[0]
            lag = LoopLagMonitor(LAG_INTERVAL_MS)
            lag.start()
            many = await asyncio.to_thread(clients_in_thread, port, sessions, pcm, truth)
            await lag.stop()
    finally:
        await models.aclose()
    gaps = [g for c in many for g in c["gaps"]]
    lat = [x for c in many for x in answered(c["latency_ms"])]
    ws_lat, replay_lat = answered(single["latency_ms"]), answered(replay)
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
            "sessions_fully_answered": sum(len(answered(c["latency_ms"])) == len(truth) for c in many),
            "turns_answered": len(lat),
            "first_audio_ms_p50": _p50(lat),
            "first_audio_ms_max": round(max(lat), 1) if lat else None,
            "downstream_gaps": len(gaps), "downstream_gap_ms_max": round(max(gaps), 1) if gaps else 0.0,
            "client_errors": [c["error"] for c in many if c.get("error")],
            "server_loop_lag_ms_p99": lag.summary().get("p99"),
        },
    }


# ---- (c) the sweep ---------------------------------------------------------------------------------------------
def parse_sweep(text: str) -> list[int]:
    """``"1,2,3,4,6"`` → [1, 2, 3, 4, 6]: distinct session counts ≥ 1, ascending."""
    try:
        counts = sorted({int(item) for item in text.split(",") if item.strip()})
    except ValueError:
        raise ValueError(f"--sweep {text!r}: expected session counts like 1,2,3,4,6") from None
    if not counts or counts[0] < 1:
        raise ValueError(f"--sweep {text!r}: expected session counts of at least 1, like 1,2,3,4,6")
    return counts


@dataclass(frozen=True)
class SweepPoint:
    sessions: int
    turns_answered: int
    turns_total: int
    v2v_ms_p50: float | None
    v2v_ms_p90: float | None
    loop_lag_ms_p99: float | None
    client_errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Every turn answered, and the slow tail within the limit."""
        return (self.turns_answered == self.turns_total and self.v2v_ms_p90 is not None
                and self.v2v_ms_p90 <= V2V_P90_LIMIT_MS)


def sweep_point(sessions: int, clients: list[dict[str, Any]], turns: int, lag_p99: float | None) -> SweepPoint:
    lat = [x for c in clients for x in answered(c["latency_ms"])]
    return SweepPoint(sessions, len(lat), sessions * turns, _p50(lat),
                      round(float(np.percentile(lat, 90)), 1) if lat else None, lag_p99,
                      tuple(c["error"] for c in clients if c.get("error")))


def capacity(points: list[SweepPoint]) -> int:
    """The largest swept N that passes with every smaller swept N passing too (0: not even the first)."""
    best = 0
    for point in sorted(points, key=lambda p: p.sessions):
        if not point.ok:
            break
        best = point.sessions
    return best


async def _over_check(models: Models, cap: int) -> Admission:
    """With ``cap`` sessions held open on a server capped at ``cap``, what does one more client get?"""
    cfg = load_config(None, overrides_for(cap))
    async with serving(cfg, models) as port:
        async def clients() -> Admission:
            release = asyncio.Event()
            ready = [asyncio.Event() for _ in range(cap)]
            holders = [asyncio.create_task(hold(port, r, release)) for r in ready]
            try:
                await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 60)
                return await try_admission(port)
            finally:
                release.set()
                await asyncio.gather(*holders, return_exceptions=True)
        return await asyncio.to_thread(in_thread, clients)


async def sweep_async(counts: list[int], over: bool) -> dict[str, Any]:
    models = await load_models(load_config(None, overrides_for(max(counts))))
    pcm, truth = render_audio(LINES)
    points: list[SweepPoint] = []
    over_result: dict[str, Any] | None = None
    try:
        async with serving(load_config(None, overrides_for(1)), models) as port:
            # not counted: the first conversation after loading pays one-time costs (lazy setup, first ASR calls)
            await asyncio.to_thread(clients_in_thread, port, 1, pcm, truth)
        for n in counts:
            async with serving(load_config(None, overrides_for(n)), models) as port:
                lag = LoopLagMonitor(LAG_INTERVAL_MS)
                lag.start()
                clients = await asyncio.to_thread(clients_in_thread, port, n, pcm, truth)
                await lag.stop()
            points.append(sweep_point(n, clients, len(truth), lag.summary().get("p99")))
        cap = capacity(points)
        if over:
            held = max(cap, 1)  # the cap is checked even where no count passed: admission does not depend on speed
            admission = await _over_check(models, held)
            over_result = {"max_sessions": held, "first_message": admission.first, "close_code": admission.close_code,
                           "turned_away": admission.turned_away}
    finally:
        await models.aclose()
    return {"turns_per_session": len(truth), "v2v_p90_limit_ms": V2V_P90_LIMIT_MS,
            "points": [dataclasses.asdict(p) | {"ok": p.ok} for p in points], "capacity": cap,
            "over": over_result}


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _rounded(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 1) for v in values]


def _print_sweep(result: dict[str, Any], over: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title=f"capacity sweep: {result['turns_per_session']} turns a session, "
                        f"pass = every turn answered and v2v p90 ≤ {result['v2v_p90_limit_ms']:.0f} ms")
    for col in ("sessions", "answered", "v2v p50 ms", "v2v p90 ms", "loop lag p99 ms", "pass"):
        table.add_column(col, justify="right")
    for p in result["points"]:
        table.add_row(str(p["sessions"]), f"{p['turns_answered']}/{p['turns_total']}", _cell(p["v2v_ms_p50"]),
                      _cell(p["v2v_ms_p90"]), _cell(p["loop_lag_ms_p99"]), "yes" if p["ok"] else "[red]no[/red]")
    console.print(table)
    console.print(f"capacity: {result['capacity']} concurrent sessions")
    if not over:
        return
    check = result["over"]
    verdict = "pass" if check["turned_away"] else "[red]FAIL[/red]"
    console.print(f"over capacity ({check['max_sessions']} held + 1): first message {check['first_message']!r}, "
                  f"close {check['close_code']}: {verdict}")


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help="concurrent real-time sessions (default 8)")
    parser.add_argument("--sweep", metavar="N1,N2,...", help="capacity sweep over these session counts")
    parser.add_argument("--over", action="store_true", help="with --sweep: one client over the capacity must be "
                                                            "turned away (busy, close 1013)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="also write DIR/server_bench.json")
    args = parser.parse_args(argv)
    if args.over and not args.sweep:
        parser.error("--over needs --sweep")
    try:
        counts = parse_sweep(args.sweep) if args.sweep else None
    except ValueError as exc:
        parser.error(str(exc))
    result = asyncio.run(sweep_async(counts, args.over) if counts else main_async(args.sessions))
    if counts:
        _print_sweep(result, args.over)
    print(json.dumps(result, indent=2))
    if args.out:
        atomic_write_json(args.out / "server_bench.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
