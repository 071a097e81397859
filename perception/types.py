"""Result types perception produces: speech boundaries, transcripts, cues and the fused emotion state.

All times are seconds on the session timeline (media time in replay).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16000
"""Every stage downstream of a source sees 16 kHz mono int16 audio."""


@dataclass(frozen=True)
class SpeechStarted:
    """Speech onset confirmed (after the minimum speech duration); ``t`` is the onset itself."""
    t: float


@dataclass(frozen=True)
class SilenceStarted:
    """Speech paused at ``t``; the turn may or may not be over (speculative ASR starts here)."""
    t: float
    segment_start: float
    audio: np.ndarray = field(repr=False, metadata={"trace_skip": True})


@dataclass(frozen=True)
class SpeechResumed:
    """The user went on after a pause shorter than the end-of-turn silence."""
    t: float


@dataclass(frozen=True)
class SpeechEnded:
    """End of a user turn: the silence lasted past the end-of-turn threshold.

    ``start``/``end`` bound the speech (pre-roll included in ``audio`` only);
    ``audio`` is the whole turn, int16 at 16 kHz, pauses included.
    """
    start: float
    end: float
    audio: np.ndarray = field(repr=False, metadata={"trace_skip": True})


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Transcript:
    text: str
    start: float
    end: float
    words: tuple[Word, ...] = ()
    final: bool = True
    language: str = "en"


@dataclass(frozen=True)
class FaceBox:
    x: float
    y: float
    w: float
    h: float
    score: float = 1.0


@dataclass(frozen=True)
class FaceCue:
    """What the camera shows of the main face at ``t`` (coordinates relative to the frame, 0..1)."""
    t: float
    face_present: bool
    face_id: int | None = None
    box: FaceBox | None = None
    faces: int = 0
    motion: float = 0.0
    expression: str | None = None
    expression_confidence: float = 0.0
    smiling: bool | None = None
    valence: float | None = None


@dataclass(frozen=True)
class VoiceCue:
    """Prosody of one speech segment, each figure also relative to the session's running baseline."""
    t: float
    start: float
    end: float
    energy_db: float
    pitch_median_hz: float | None
    pitch_range_semitones: float | None
    speaking_rate_wps: float | None
    energy_rel: float
    pitch_rel: float
    rate_rel: float
    arousal: float


@dataclass(frozen=True)
class TextCue:
    """Word-level sentiment of one final transcript (VADER compound in -1..1)."""
    t: float
    text: str
    valence: float
    positive: float
    negative: float
    neutral: float


@dataclass(frozen=True)
class CueVote:
    """One cue's say in the fused state: its source, when, and what it suggested."""
    source: str
    t: float
    valence: float | None
    arousal: float | None
    label: str | None
    weight: float


@dataclass(frozen=True)
class EmotionState:
    """The fused estimate of the user's feeling at ``t``.

    ``valence`` and ``arousal`` are in -1..1; ``label`` is one of
    :data:`EMOTION_LABELS`; ``conflicts`` names cue pairs that disagree
    (e.g. ``"face:positive vs words:negative"``); they are kept, not averaged away.
    """
    t: float
    valence: float
    arousal: float
    label: str
    confidence: float
    provenance: tuple[CueVote, ...] = ()
    conflicts: tuple[str, ...] = ()


EMOTION_LABELS = ("neutral", "happy", "sad", "angry", "anxious", "surprised", "calm", "tired")
