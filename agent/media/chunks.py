"""Media units that sources emit: audio chunks (16 kHz mono int16) and video frames (BGR uint8)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from floor import SAMPLE_RATE


@dataclass(frozen=True)
class AudioChunk:
    """``pcm``: int16 mono at 16 kHz; ``t``: timeline time of its first sample."""
    t: float
    pcm: np.ndarray = field(repr=False)

    @property
    def duration(self) -> float:
        return len(self.pcm) / SAMPLE_RATE


@dataclass(frozen=True)
class VideoFrame:
    """``image``: as decoded (normally HxWx3 BGR uint8; stages must also cope with gray or BGRA)."""
    t: float
    image: np.ndarray = field(repr=False)
