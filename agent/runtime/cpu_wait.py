"""CPU contention as this process feels it: how long its runnable threads waited for a core, per second of wall time.

Linux counts, per thread, the time it was ready to run but had no CPU (``/proc/self/task/*/schedstat``,
second field, in nanoseconds). Summed over the process's threads and divided by the wall time between
two readings, it is the average number of our threads kept waiting: near 0 on a quiet machine whatever
our own load, near 1 or more when another process takes the cores. Elsewhere there is no reading (None).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

_TASKS = Path("/proc/self/task")


def _waited_s() -> float | None:
    total = 0
    try:
        tids = os.listdir(_TASKS)
    except OSError:
        return None
    for tid in tids:
        try:
            total += int((_TASKS / tid / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):  # the thread ended between listing and reading
            continue
    return total / 1e9


class CpuWait:
    """``sample()`` returns the threads kept waiting on average since the previous call (None: not measurable)."""

    def __init__(self) -> None:
        self._last = (time.perf_counter(), _waited_s())

    def sample(self) -> float | None:
        now, waited = time.perf_counter(), _waited_s()
        (then, before), self._last = self._last, (now, waited)
        if waited is None or before is None or now <= then:
            return None
        return max(0.0, waited - before) / (now - then)
