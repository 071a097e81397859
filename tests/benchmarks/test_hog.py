"""The CPU hog: N busy processes for the duration of a block, none left after it."""
from __future__ import annotations

import time

import psutil
import pytest

from benchmarks.hog import cpu_hog


def test_the_hog_runs_n_busy_processes_and_stops_them() -> None:
    with cpu_hog(2) as pids:
        assert len(pids) == 2
        procs = [psutil.Process(pid) for pid in pids]
        for p in procs:
            p.cpu_percent(None)
        time.sleep(0.5)
        assert all(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in procs)
        assert all(p.cpu_percent(None) > 20 for p in procs)  # spinning, not sleeping (lenient: the CPUs are shared)
        assert all(p.nice() == psutil.Process().nice() for p in procs)  # the bench's own priority
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


def test_no_hog_is_a_no_op_and_a_negative_count_is_refused() -> None:
    with cpu_hog(0) as pids:
        assert pids == []
    with pytest.raises(ValueError, match="0 or more"):
        with cpu_hog(-1):
            pass


def test_the_hogs_stop_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError):
        with cpu_hog(1) as pids:
            raise RuntimeError("bench failed")
    assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == psutil.STATUS_ZOMBIE
