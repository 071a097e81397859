"""Types speech produces and consumes: the speaking style, synthesized audio and the TTS protocol."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Style:
    """How to say a sentence: speed multiplier, volume gain (linear) and the voice name."""
    speed: float = 1.0
    volume: float = 1.0
    voice: str | None = None
    emotion: str = "neutral"


@dataclass(frozen=True)
class SpokenAudio:
    """One synthesized sentence: int16 mono samples at ``sample_rate``."""
    text: str
    samples: np.ndarray = field(repr=False)
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class Tts(Protocol):
    """Text-to-speech, one sentence at a time; heavy and synchronous (the runtime calls it off the loop)."""

    name: str
    sample_rate: int

    def synthesize(self, sentence: str, style: Style) -> np.ndarray:
        """int16 mono samples at ``sample_rate``."""

    def warm_up(self) -> None:
        ...
