"""Session metrics: event-loop lag, peak memory, model load times and compute time per stage."""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Iterable

import numpy as np
import psutil


def percentiles(values: Iterable[float], points: tuple[int, ...] = (50, 90, 95, 99)) -> dict[str, float]:
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        return {}
    out = {f"p{p}": round(float(np.percentile(data, p)), 3) for p in points}
    out["max"] = round(float(data.max()), 3)
    out["n"] = int(data.size)
    return out


class LoopLagMonitor:
    """Samples how late the event loop wakes a timer; lag is the loop being blocked or saturated."""

    def __init__(self, interval_ms: float = 20.0) -> None:
        self.interval = interval_ms / 1000.0
        self.samples_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = (time.perf_counter() - t0 - self.interval) * 1000.0
            self.samples_ms.append(max(0.0, lag))
            if len(self.samples_ms) > 200_000:
                del self.samples_ms[:100_000]

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def summary(self) -> dict[str, float]:
        return percentiles(self.samples_ms, (50, 99))


class Metrics:
    """Counters and timings a session accumulates; `snapshot()` is what metrics.json holds."""

    def __init__(self) -> None:
        self.load_s: dict[str, float] = {}
        self.stage_ms: dict[str, list[float]] = defaultdict(list)
        self.counters: dict[str, int] = defaultdict(int)
        self.ready_s: float | None = None
        self._process = psutil.Process()
        self._rss_peak = 0

    def stage(self, name: str, ms: float) -> None:
        samples = self.stage_ms[name]
        samples.append(ms)
        if len(samples) > 50_000:
            del samples[:25_000]

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def sample_rss(self) -> None:
        self._rss_peak = max(self._rss_peak, self._process.memory_info().rss)

    @property
    def rss_mb_peak(self) -> float:
        self.sample_rss()
        return self._rss_peak / 2**20

    def snapshot(self, loop_lag: dict[str, float]) -> dict[str, object]:
        return {
            "loop_lag_ms": loop_lag,
            "rss_mb_peak": round(self.rss_mb_peak, 1),
            "ready_s": None if self.ready_s is None else round(self.ready_s, 3),
            "load_s": {k: round(v, 3) for k, v in self.load_s.items()},
            "stage_ms": {k: {**percentiles(v, (50, 90, 99)), "total": round(sum(v), 1)} for k, v in sorted(self.stage_ms.items())},
            "counters": dict(sorted(self.counters.items())),
        }
