"""Heap growth between two marks, named by the project line that allocated it."""
from __future__ import annotations

import tracemalloc
from collections import Counter

from benchmarks import memgrowth

KEPT: list[bytes] = []


class Leaky:
    pass


def _leak(n: int) -> None:
    for _ in range(n):
        KEPT.append(bytes(10_000))  # the line the report must name


def test_growth_is_named_by_the_project_line_and_divided_per_cycle() -> None:
    memgrowth.start()
    try:
        before = memgrowth.mark()
        _leak(20)
        kept = [Leaky() for _ in range(30)]
        after = memgrowth.mark()
    finally:
        tracemalloc.stop()
    report = memgrowth.report(before, after, per=10)
    top = report["top_sites"][0]  # type: ignore[index]
    assert top["where"].startswith("tests/benchmarks/test_memgrowth.py:")
    assert 19_000 <= top["bytes_per"] <= 22_000  # 20 blocks of 10 kB over 10 cycles
    assert {"type": "Leaky", "objects_per": 3.0} in report["top_types"]  # type: ignore[operator]
    lines = memgrowth.format_report(report, "loop")
    assert lines[0].startswith("Python heap growth per loop") and any("Leaky" in line for line in lines)
    KEPT.clear()
    del kept


def test_type_growth_lists_only_types_that_grew() -> None:
    before = Counter({"dict": 10, "Event": 5, "Gone": 3})
    after = Counter({"dict": 12, "Event": 5, "New": 4})
    assert memgrowth.type_growth(before, after) == [("New", 4), ("dict", 2)]
