"""Server soak: `humansense serve` for an hour, clients coming and going; memory, threads and fds must stay flat.

The server runs as a subprocess (embedded defaults, ``server.max_sessions`` raised to the client count when the
server has it), measured from outside with psutil every ``--sample-s`` seconds: RSS, thread count, open file
descriptors. ``--clients`` simulated users each hold one real-time conversation after another (the four scripted
lines of :mod:`benchmarks.ws_clients`, ~45 s), reconnecting after each after a short seeded pause.

Warm-up: every client finishes ``--warmup-cycles`` conversations (default 2), then all wait until the server has
wound their sessions down, and the RSS there is "after warm-up"; the soak proper then runs ``--minutes``, and
"at end" is measured the same way, with every client gone. Both marks see an idle server, so their difference is
what stayed behind. Targets: RSS growth ≤ 30 MB after warm-up; threads and fds flat (the highest count in the last
third of the samples after warm-up is at most ``FLAT_SLACK`` above the highest in the first third).

    python -m benchmarks.soak [--clients 4] [--minutes 60] [--warmup-cycles 2] [--seed 0] [--out DIR]
                              [--trace-malloc]

Prints a table with pass/fail per target to stderr and the JSON to stdout; ``--out DIR`` also writes
DIR/soak.json and the server's log. ``--trace-malloc`` runs the server under tracemalloc (slower: for finding a
leak, not for the figures) and prints the heap sites and object types that grew per conversation between the two
marks (:mod:`benchmarks.memgrowth`; the snapshots stay in DIR/heap).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import numpy as np
import psutil

from agent.files import atomic_write_json
from agent.demo.synth import Utterance, render_audio
from benchmarks import memgrowth
from benchmarks.server_bench import overrides_for
from benchmarks.ws_clients import LINES, answered, conversation

RSS_GROWTH_LIMIT_MB = 30.0
FLAT_SLACK = 2  # threads or fds: a transient (a to_thread call, a reconnect in flight) is not a leak
START_TIMEOUT_S = 300.0  # loading the models on a busy 2-core machine
QUIESCE_S = 5.0  # after the clients leave, the server winds each session down (shutdown_timeout_s 3 s)
MARK_TIMEOUT_S = 120.0  # a traced heap snapshot of a loaded server takes seconds, more on a busy machine
PAUSE_S = (1.0, 5.0)  # a client's pause before it reconnects, drawn from this range
STAGGER_S = 10.0  # a client's start, and its restart after the warm mark, is delayed by up to this


# ---- the figures (pure) ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the server was ready
    rss_mb: float
    threads: int
    fds: int


def slope_per_hour(ts: list[float], values: list[float]) -> float | None:
    """Least-squares slope of ``values`` against ``ts`` (seconds), per hour; None with fewer than two times."""
    if len(set(ts)) < 2:
        return None
    return float(np.polyfit(np.asarray(ts), np.asarray(values), 1)[0]) * 3600.0


def flat(counts: list[int], slack: int = FLAT_SLACK) -> bool:
    """No upward trend: the last third's highest count is within ``slack`` of the first third's highest."""
    if len(counts) < 3:
        return True
    third = len(counts) // 3
    return max(counts[-third:]) <= max(counts[:third]) + slack


def summarize(samples: list[Sample], warm: Sample, end: Sample) -> dict[str, Any]:
    """The soak's figures from the samples after warm-up and the two idle marks."""
    after = [s for s in samples if s.t >= warm.t]
    slope = slope_per_hour([s.t for s in after], [s.rss_mb for s in after])
    threads, fds = [s.threads for s in after], [s.fds for s in after]
    return {"rss_mb_after_warmup": round(warm.rss_mb, 1), "rss_mb_end": round(end.rss_mb, 1),
            "rss_growth_mb": round(end.rss_mb - warm.rss_mb, 1),
            "rss_slope_mb_per_hour": None if slope is None else round(slope, 2),
            "threads_min_max": [min(threads), max(threads)], "fds_min_max": [min(fds), max(fds)],
            "threads_flat": flat(threads), "fds_flat": flat(fds), "samples_after_warmup": len(after)}


def verdicts(figures: dict[str, Any], limit_mb: float = RSS_GROWTH_LIMIT_MB) -> dict[str, bool]:
    return {f"rss_growth_le_{limit_mb:g}_mb": figures["rss_growth_mb"] <= limit_mb,
            "threads_flat": figures["threads_flat"], "fds_flat": figures["fds_flat"]}


# ---- the server, from outside ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(port: int, sets: list[str], trace: bool) -> list[str]:
    runner = ["-m", "benchmarks.memgrowth"] if trace else ["-m", "agent.cli"]
    return [sys.executable, *runner, "serve", "--host", "127.0.0.1", "--port", str(port),
            *(arg for item in sets for arg in ("--set", item))]


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until the page answers; a server that exits first fails with its log's last line."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines()
            raise RuntimeError(f"the server exited ({proc.returncode}): {lines[-1] if lines else 'no output'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return
        except OSError:
            time.sleep(1.0)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_S:g} s (log: {log})")


def measure(proc: psutil.Process, t0: float) -> Sample:
    with proc.oneshot():
        return Sample(round(time.monotonic() - t0, 2), proc.memory_info().rss / 2**20, proc.num_threads(),
                      proc.num_fds())


# ---- the clients -----------------------------------------------------------------------------------------------
@dataclass
class ClientLog:
    conversations: int = 0
    turns: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, result: dict[str, Any]) -> None:
        self.conversations += 1
        self.turns += len(result["latency_ms"])
        self.answered += len(answered(result["latency_ms"]))
        if result.get("error"):
            self.errors.append(result["error"])


class Phases:
    """Warm-up, an idle mark, the soak proper; the clients wait for one another at the mark."""

    def __init__(self, clients: int) -> None:
        self.waiting = clients
        self.all_warm = asyncio.Event()
        self.resume = asyncio.Event()

    async def warmed(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.all_warm.set()
        await self.resume.wait()


async def _conversations(port: int, pcm: np.ndarray, truth: list[Utterance], log: ClientLog, rng: random.Random,
                         done: Callable[[], bool]) -> None:
    await asyncio.sleep(rng.uniform(0, STAGGER_S))  # so the clients do not move in lockstep
    while not done():
        log.add(await conversation(port, pcm, truth))
        await asyncio.sleep(rng.uniform(*PAUSE_S))


async def client(port: int, pcm: np.ndarray, truth: list[Utterance], log: ClientLog, rng: random.Random,
                 warmup: int, phases: Phases, soak_end: list[float]) -> None:
    """``warmup`` conversations, the idle mark, then conversations until ``soak_end[0]`` (set at the mark)."""
    await _conversations(port, pcm, truth, log, rng, lambda: log.conversations >= warmup)
    await phases.warmed()
    await _conversations(port, pcm, truth, log, rng, lambda: time.monotonic() >= soak_end[0])


async def sample_every(proc: psutil.Process, t0: float, every_s: float, samples: list[Sample]) -> None:
    while True:
        samples.append(measure(proc, t0))
        await asyncio.sleep(every_s)


# ---- the run ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SoakOptions:
    clients: int = 4
    minutes: float = 60.0
    warmup_cycles: int = 2
    sample_s: float = 5.0
    seed: int = 0
    out: Path | None = None
    trace_malloc: bool = False


async def _drive(opts: SoakOptions, port: int, proc: psutil.Process,
                 marks: Callable[[int], Awaitable[None]]) -> dict[str, Any]:
    """Clients through warm-up, the warm mark, the soak, the end mark; ``marks(n)`` takes heap mark n if tracing."""
    pcm, truth = await asyncio.to_thread(render_audio, LINES)
    t0 = time.monotonic()
    samples: list[Sample] = []
    sampler = asyncio.create_task(sample_every(proc, t0, opts.sample_s, samples))
    phases = Phases(opts.clients)
    soak_end = [float("inf")]
    logs = [ClientLog() for _ in range(opts.clients)]
    tasks = [asyncio.create_task(client(port, pcm, truth, log, random.Random(opts.seed * 1000 + i), opts.warmup_cycles,
                                        phases, soak_end)) for i, log in enumerate(logs)]
    await phases.all_warm.wait()
    await asyncio.sleep(QUIESCE_S)
    warm = measure(proc, t0)
    await marks(0)
    warm_conversations = sum(log.conversations for log in logs)
    soak_end[0] = time.monotonic() + opts.minutes * 60
    phases.resume.set()
    await asyncio.gather(*tasks)
    await asyncio.sleep(QUIESCE_S)
    end = measure(proc, t0)
    await marks(1)
    sampler.cancel()
    figures = summarize(sorted(samples + [warm, end], key=lambda s: s.t), warm, end)
    return {"warmup": f"until every client finished {opts.warmup_cycles} conversation(s), then {QUIESCE_S:g} s idle",
            "warmup_end_s": warm.t, "end_s": end.t, **figures, "targets": verdicts(figures),
            "conversations_after_warmup": sum(log.conversations for log in logs) - warm_conversations,
            "per_client": [{"conversations": log.conversations, "turns_answered": log.answered, "turns": log.turns,
                            "errors": len(log.errors), "error_examples": sorted(set(log.errors))[:3]}
                           for log in logs],
            "samples": [[s.t, round(s.rss_mb, 1), s.threads, s.fds] for s in samples]}


def run_soak(opts: SoakOptions) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="soak-")) if opts.out is None else opts.out
    work.mkdir(parents=True, exist_ok=True)
    snapshots = work / "heap"
    port = free_port()
    sets = overrides_for(opts.clients)
    env = dict(os.environ, **{memgrowth.SNAPSHOT_DIR_ENV: str(snapshots)})
    log = work / "server.log"
    with open(log, "wb") as handle:
        server = subprocess.Popen(server_command(port, sets, opts.trace_malloc), stdout=handle,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        wait_ready(server, port, log)
        proc = psutil.Process(server.pid)
        if opts.trace_malloc:
            server.send_signal(signal.SIGUSR2)  # trace from here: the warm-up conversations reach a steady state

        async def marks(n: int) -> None:
            if not opts.trace_malloc:
                return
            server.send_signal(signal.SIGUSR1)
            deadline = time.monotonic() + MARK_TIMEOUT_S
            while not (snapshots / f"{n}.done").exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server wrote no heap snapshot {n} (log: {log})")
                await asyncio.sleep(0.5)

        result = asyncio.run(_drive(opts, port, proc, marks))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    result = {"benchmark": "server soak", "clients": opts.clients, "minutes": opts.minutes, "seed": opts.seed,
              "settings": sets, "sample_s": opts.sample_s, "server_log": str(log), **result}
    if opts.trace_malloc:
        per = max(1, result["conversations_after_warmup"])
        result["heap_growth"] = memgrowth.report(memgrowth.read_mark(snapshots, 0), memgrowth.read_mark(snapshots, 1),
                                                 per)
    return result


def _print(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title=f"server soak: {result['clients']} clients, {result['minutes']:g} min after warm-up",
                  caption=f"warm-up: {result['warmup']} (at {result['warmup_end_s']:.0f} s)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [("RSS after warm-up / at end", f"{result['rss_mb_after_warmup']:.1f} / {result['rss_mb_end']:.1f} MB"),
            ("RSS growth", f"{result['rss_growth_mb']:+.1f} MB"),
            ("RSS slope", "-" if result["rss_slope_mb_per_hour"] is None
             else f"{result['rss_slope_mb_per_hour']:+.1f} MB/hour"),
            ("threads min / max", "{} / {}".format(*result["threads_min_max"])),
            ("fds min / max", "{} / {}".format(*result["fds_min_max"]))]
    for i, c in enumerate(result["per_client"]):
        rows.append((f"client {i + 1}: answered / turns, errors",
                     f"{c['turns_answered']} / {c['turns']}, {c['errors']}"))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for name, ok in result["targets"].items():
        console.print(f"{name}: {'pass' if ok else '[red]FAIL[/red]'}")
    if "heap_growth" in result:
        console.print("\n".join(memgrowth.format_report(result["heap_growth"], "conversation")), markup=False,
                      soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="simulated users at once (default 4)")
    parser.add_argument("--minutes", type=float, default=60.0, help="soak length after warm-up (default 60)")
    parser.add_argument("--warmup-cycles", type=int, default=2, metavar="N",
                        help="conversations each client holds before the warm mark (default 2)")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the clients' start offsets and pauses")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write DIR/soak.json and DIR/server.log")
    parser.add_argument("--trace-malloc", action="store_true",
                        help="trace the server's Python heap and print what grew per conversation (slower)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the server subprocess is stopped too
    if args.clients < 1 or args.warmup_cycles < 0 or args.minutes < 0 or args.sample_s <= 0:
        parser.error("--clients must be ≥ 1, --warmup-cycles and --minutes ≥ 0, --sample-s > 0")
    result = run_soak(SoakOptions(args.clients, args.minutes, args.warmup_cycles, args.sample_s, args.seed, args.out,
                                  args.trace_malloc))
    _print(result)
    print(json.dumps(result, indent=2))
    if args.out:
        atomic_write_json(args.out / "soak.json", result)
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
