"""The replay soak's warm-up: heap growth counts only once the rolling context holds a full window."""
from __future__ import annotations

from benchmarks.perception_bench import warm_loops


def test_growth_counts_once_a_full_context_window_has_been_replayed() -> None:
    assert warm_loops(window_s=120.0, loop_s=57.9) == 3  # 2 loops are 115.8 s: the window is still filling
    assert warm_loops(window_s=120.0, loop_s=60.0) == 2
    assert warm_loops(window_s=10.0, loop_s=57.9) == 2  # never before the second loop: caches warm up in the first
