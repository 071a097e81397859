"""Percentiles: one shape for every figure (the same keys with or without values); a series keeps exact n and max."""
from __future__ import annotations

import pytest

from agent.runtime.metrics import Samples, percentiles


def test_percentiles_skip_missing_values_and_round_to_three_decimals() -> None:
    assert percentiles([None, 1.0, 2.0, 3.0, 4.0]) == {"n": 4, "p50": 2.5, "p90": 3.7, "p95": 3.85, "max": 4.0}
    assert percentiles([1 / 3, 2 / 3], (50,)) == {"n": 2, "p50": 0.5, "max": 0.667}


def test_percentiles_of_nothing_keep_their_keys_with_no_values() -> None:
    assert percentiles([], (50, 99)) == {"n": 0, "p50": None, "p99": None, "max": None}
    assert percentiles([None, None]) == {"n": 0, "p50": None, "p90": None, "p95": None, "max": None}


def test_a_series_subsamples_but_counts_and_maxes_exactly() -> None:
    series = Samples(keep=8)
    assert series.summary((50,)) == {}
    for value in range(100):
        series.add(float(value))
    summary = series.summary((50, 99))
    assert (summary["n"], summary["max"]) == (100, 99.0)
    assert len(series.kept) < 8
    assert summary["p50"] == pytest.approx(49.5, abs=10)
