"""One user turn's record (what was said, answered, played) and its latency breakdown, as in turns.json."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


@dataclass
class TurnRecord:
    """Filled as the turn unfolds; times are timeline seconds, compute durations are wall seconds."""

    trigger: str
    user_start_s: float | None = None
    user_end_s: float | None = None
    committed_s: float | None = None
    user_text: str = ""
    agent_text: str = ""
    agent_emotion: str | None = None
    decision: str | None = None
    interrupted: bool = False
    brain: str = ""
    fallback: str | None = None
    first_audio_s: float | None = None
    asr_start_s: float | None = None  # timeline: the pause onset to the start of transcription (debounce, queueing)
    asr_s: float | None = None
    cues_s: float | None = None
    brain_first_token_s: float | None = None
    brain_first_sentence_s: float | None = None
    tts_first_audio_s: float | None = None
    preemptive: bool = False
    acknowledgement: str | None = None  # said at once while the brain composed (not a fallback)
    parts: list[dict[str, str]] = field(default_factory=list)  # what was heard, by where the words came from
    notes: list[str] = field(default_factory=list)  # the brain's repairs of a malformed answer, and its errors
    cues: dict[str, Any] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)  # steps that failed for this turn (asr, cues, brain, tts)

    def latency_ms(self) -> dict[str, float | None]:
        v2v = None
        if self.first_audio_s is not None and self.user_end_s is not None:
            v2v = self.first_audio_s - self.user_end_s
        endpoint = None
        if self.committed_s is not None and self.user_end_s is not None:
            endpoint = self.committed_s - self.user_end_s
        return {
            "endpoint_wait": _ms(endpoint),
            "asr_start": _ms(self.asr_start_s),
            "asr": _ms(self.asr_s),
            "cues": _ms(self.cues_s),
            "brain_first_token": _ms(self.brain_first_token_s),
            "brain_first_sentence": _ms(self.brain_first_sentence_s),
            "tts_first_audio": _ms(self.tts_first_audio_s),
            "voice_to_voice": _ms(v2v),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "user_start_s": None if self.user_start_s is None else round(self.user_start_s, 3),
            "user_end_s": None if self.user_end_s is None else round(self.user_end_s, 3),
            "user_text": self.user_text,
            "agent_text": self.agent_text,
            "agent_emotion": self.agent_emotion,
            "decision": self.decision,
            "interrupted": self.interrupted,
            "brain": self.brain,
            "fallback": self.fallback,
            "acknowledgement": self.acknowledgement,
            "parts": self.parts,
            "notes": self.notes,
            "preemptive": self.preemptive,
            "latency_ms": self.latency_ms(),
            "cues": self.cues,
            "faults": self.faults,
        }
