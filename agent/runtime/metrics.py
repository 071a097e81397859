"""Session metrics: event-loop lag, peak memory, model load times and compute time per stage."""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Iterable

import numpy as np
import psutil


SAMPLES_KEPT = 8192
"""Per series, at most this many samples are kept (~260 KB): a uniform subsample of the whole session."""


class Samples:
    """One series in bounded memory: every ``stride``-th value (the stride doubles, dropping every other kept
    value, whenever ``keep`` are held), so percentiles describe the whole session; count, total and max are exact."""

    def __init__(self, keep: int = SAMPLES_KEPT) -> None:
        self.keep = keep
        self.kept: list[float] = []
        self.stride = 1
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, value: float) -> None:
        if self.count % self.stride == 0:
            self.kept.append(value)
            if len(self.kept) >= self.keep:
                del self.kept[1::2]
                self.stride *= 2
        self.max = value if self.count == 0 else max(self.max, value)
        self.count += 1
        self.total += value

    def summary(self, points: tuple[int, ...]) -> dict[str, float | int | None]:
        """``percentiles`` of the kept values, with the exact ``n`` and ``max``; {} before the first value."""
        if not self.count:
            return {}
        return {**percentiles(self.kept, points), "max": round(self.max, 3), "n": self.count}


def percentiles(values: Iterable[float | None],
                points: tuple[int, ...] = (50, 90, 95)) -> dict[str, float | int | None]:
    """{n, p<point>..., max} over the values that are not None, to 3 decimals; with none, n is 0 and the rest None
    (so a figure's keys are the same in every run)."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    if not data.size:
        return {"n": 0, **{f"p{p}": None for p in points}, "max": None}
    return {"n": int(data.size), **{f"p{p}": round(float(np.percentile(data, p)), 3) for p in points},
            "max": round(float(data.max()), 3)}


class LoopLagMonitor:
    """Samples how late the event loop wakes a timer; lag is the loop being blocked or saturated."""

    def __init__(self, interval_ms: float = 20.0) -> None:
        self.interval = interval_ms / 1000.0
        self.samples_ms = Samples()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = (time.perf_counter() - t0 - self.interval) * 1000.0
            self.samples_ms.add(max(0.0, lag))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def summary(self) -> dict[str, float]:
        return self.samples_ms.summary((50, 99))


class Metrics:
    """Counters and timings a session accumulates; `snapshot()` is what metrics.json holds."""

    def __init__(self) -> None:
        self.load_s: dict[str, float] = {}
        self.stage_ms: dict[str, Samples] = defaultdict(Samples)
        self.counters: dict[str, int] = defaultdict(int)
        self.ready_s: float | None = None
        self._process = psutil.Process()
        self._rss_peak = 0

    def stage(self, name: str, ms: float) -> None:
        self.stage_ms[name].add(ms)

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
            "stage_ms": {k: {**v.summary((50, 90, 99)), "total": round(v.total, 1)} for k, v in sorted(self.stage_ms.items())},
            "counters": dict(sorted(self.counters.items())),
        }
