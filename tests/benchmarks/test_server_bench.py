"""The capacity sweep's pieces: parsing the session counts, a point's pass/fail, the capacity, the admission cap."""
from __future__ import annotations

import pytest

from benchmarks.server_bench import MAX_SESSIONS_KEY, SweepPoint, capacity, overrides_for, parse_sweep, sweep_point


def test_sweep_counts_are_distinct_and_ascending() -> None:
    assert parse_sweep("1,2,3,4,6") == [1, 2, 3, 4, 6]
    assert parse_sweep(" 4, 2,2 ,1,") == [1, 2, 4]


@pytest.mark.parametrize("text", ["", "0,1", "1,two", "-1", ","])
def test_bad_sweeps_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(ValueError, match="--sweep"):
        parse_sweep(text)


def _point(n: int, answered: int, p90: float | None) -> SweepPoint:
    return SweepPoint(n, answered, 4 * n, 500.0, p90, 2.0)


def test_a_point_passes_with_every_turn_answered_and_p90_within_1_5_s() -> None:
    assert _point(2, 8, 1500.0).ok
    assert not _point(2, 7, 900.0).ok
    assert not _point(2, 8, 1500.1).ok
    assert not _point(1, 0, None).ok


def test_a_point_from_client_results() -> None:
    clients = [{"latency_ms": [400.0, 600.0, None, 800.0]}, {"latency_ms": [500.0, 500.0, 700.0, 900.0],
                                                             "error": None}]
    point = sweep_point(2, clients, 4, 3.5)
    assert (point.turns_answered, point.turns_total, point.v2v_ms_p50) == (7, 8, 600.0)
    assert point.v2v_ms_p90 == pytest.approx(840.0) and point.client_errors == () and not point.ok


def test_capacity_is_the_largest_count_before_the_first_failure() -> None:
    points = [_point(1, 4, 700), _point(2, 8, 900), _point(3, 12, 1400), _point(4, 15, 2000), _point(6, 24, 1200)]
    assert capacity(points) == 3  # 6 passing by luck after 4 failed does not count
    assert capacity(list(reversed(points))) == 3
    assert capacity([_point(1, 3, 700)]) == 0
    assert capacity([]) == 0


def test_the_server_is_told_to_admit_every_swept_session() -> None:
    assert overrides_for(6) == ["output.terminal=false", f"{MAX_SESSIONS_KEY}=6"]
