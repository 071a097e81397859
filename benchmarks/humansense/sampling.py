"""The published frame-sampling rule: rate from the frame count, at most 24 frames, a 360·420 pixel budget.

The published omni runs passed ``fps`` and ``max_pixels`` to qwen-omni-utils'
``fetch_video``; the frame count, the frame indices and the resize below follow
that library (frames in pairs, at least 4, linspace indices, sides in multiples of 28).
"""
from __future__ import annotations

import math

import numpy as np

MAX_FRAMES = 24
MAX_PIXELS = 360 * 420
MIN_PIXELS = 128 * 28 * 28
SIZE_FACTOR = 28
FRAME_FACTOR = 2
MIN_FRAMES = 4
RULE_VERSION = 1
"""Bumped when the rule changes, so cached preparations are not reused."""


def sampling_rate(full_frame_number: float, fps: float) -> float:
    """Frames per second sampled: 1.0 up to 300 frames, 0.5 below 600, else 0.2; capped at 24 frames.

    As published, the item's fps is truncated to an integer here.
    """
    n = full_frame_number
    rate = 1.0 if n <= 300 else 0.5 if n < 600 else 0.2
    duration = n / max(1, int(fps))
    if duration * rate > MAX_FRAMES:
        rate = MAX_FRAMES / duration
    return rate


def frame_count(total_frames: int, video_fps: float, rate: float) -> int:
    """How many frames ``fetch_video`` takes at ``rate`` from a video of ``total_frames`` at ``video_fps``."""
    lo = math.ceil(MIN_FRAMES / FRAME_FACTOR) * FRAME_FACTOR
    hi = math.floor(min(768, total_frames) / FRAME_FACTOR) * FRAME_FACTOR
    wanted = total_frames / video_fps * rate
    n = round(min(max(wanted, lo), hi) / FRAME_FACTOR) * FRAME_FACTOR
    return max(1, min(n, total_frames))


def frame_indices(total_frames: int, count: int) -> list[int]:
    """Evenly spread frame indices, first and last included."""
    return sorted(set(np.linspace(0, total_frames - 1, count).round().astype(int).tolist()))


def resized(height: int, width: int) -> tuple[int, int]:
    """(height, width) after the published resize: multiples of 28, aspect kept, within the pixel budget."""
    h = max(SIZE_FACTOR, round(height / SIZE_FACTOR) * SIZE_FACTOR)
    w = max(SIZE_FACTOR, round(width / SIZE_FACTOR) * SIZE_FACTOR)
    if h * w > MAX_PIXELS:
        beta = math.sqrt(height * width / MAX_PIXELS)
        h = max(SIZE_FACTOR, math.floor(height / beta / SIZE_FACTOR) * SIZE_FACTOR)
        w = max(SIZE_FACTOR, math.floor(width / beta / SIZE_FACTOR) * SIZE_FACTOR)
    elif h * w < MIN_PIXELS:
        beta = math.sqrt(MIN_PIXELS / (height * width))
        h = math.ceil(height * beta / SIZE_FACTOR) * SIZE_FACTOR
        w = math.ceil(width * beta / SIZE_FACTOR) * SIZE_FACTOR
    return h, w
