"""The published frame-sampling rule."""
from __future__ import annotations

import pytest

from benchmarks.humansense.sampling import frame_count, frame_indices, resized, sampling_rate


@pytest.mark.parametrize("n, fps, rate", [
    (300, 30, 1.0),            # 10 s, N <= 300: 1 fps -> 10 frames
    (301, 30, 0.5),            # 300 < N < 600
    (600, 30, 0.2),            # N >= 600
    (1800, 30, 0.2),           # 60 s at 0.2 -> 12 frames, under the cap
    (299, 10, 24 / 29.9),      # 29.9 s at 1 fps = 29.9 frames > 24 -> r = 24 / 29.9
    (3600, 30, 0.2),           # 120 s * 0.2 = 24, exactly the cap: kept
    (3601, 30, 24 / (3601 / 30)),
    (300, 29.97, 1.0),         # fps truncated to 29 as published: 10.34 s -> 10.34 frames
])
def test_rate(n: int, fps: float, rate: float) -> None:
    assert sampling_rate(n, fps) == pytest.approx(rate)


def test_frame_count_is_even_at_least_four_and_at_most_24() -> None:
    assert frame_count(1800, 30, 0.2) == 12
    assert frame_count(36, 12, 1.0) == 4          # 3 s at 1 fps = 3, raised to the minimum 4
    assert frame_count(7200, 30, sampling_rate(7200, 30)) == 24
    assert frame_count(3, 12, 1.0) == 2           # frames come in pairs, never more than the video has
    assert frame_count(1, 12, 1.0) == 1           # ... except a one-frame video still gives its frame


def test_indices_span_the_clip() -> None:
    assert frame_indices(1800, 12)[0] == 0 and frame_indices(1800, 12)[-1] == 1799
    assert len(frame_indices(1800, 12)) == 12


def test_resize_keeps_aspect_within_the_pixel_budget() -> None:
    h, w = resized(480, 640)
    assert (h, w) == (336, 448) and h * w <= 360 * 420
    h, w = resized(1080, 1920)
    assert h * w <= 360 * 420 and abs(w / h - 16 / 9) < 0.1
    assert resized(336, 448) == (336, 448)
