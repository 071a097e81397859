"""A CPU hog: N busy processes beside a benchmark, standing in for other work on a shared machine.

    with cpu_hog(2):
        run_suite(...)

Each hog is a separate Python process spinning a pure-Python loop, so it takes one core and no memory bandwidth
worth mentioning; it inherits the benchmark's niceness (same priority, the fair case) and exits on its own when
its parent goes away, so a killed benchmark leaves no hog behind. ``humansense bench --hog N`` uses it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from typing import Iterator

STOP_WAIT_S = 5.0
_SPIN = """\
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:  # orphaned (the benchmark was killed): stop
    for _ in range(200_000):
        pass
"""


@contextmanager
def cpu_hog(n: int) -> Iterator[list[int]]:
    """Run ``n`` busy processes for the duration of the block; yields their pids."""
    if n < 0:
        raise ValueError(f"cpu_hog: n must be 0 or more, got {n}")
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN, str(os.getpid())], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]
    try:
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
