"""Types the brain reads and writes: the context view, decisions, streamed deltas, the Brain protocol."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Literal, Protocol

import numpy as np

from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue

DecisionKind = Literal["respond", "backchannel", "wait"]
DECISIONS: tuple[str, ...] = ("respond", "backchannel", "wait")

AGENT_EMOTIONS: tuple[str, ...] = (
    "neutral", "warm", "happy", "excited", "calm", "sad", "concerned", "apologetic", "curious",
)
"""The emotions the agent may show; each maps to TTS prosody in ``speech.prosody``."""

Trigger = Literal["end_of_turn", "proactive", "backchannel", "preemptive"]


@dataclass(frozen=True)
class DialogueTurn:
    """One entry of the conversation so far; agent turns hold only what was actually played."""
    role: Literal["user", "agent"]
    text: str
    t: float
    emotion: str | None = None
    interrupted: bool = False


@dataclass(frozen=True)
class Keyframe:
    t: float
    jpeg: bytes = field(repr=False)
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class BrainView:
    """Everything the brain sees at one decision point, filled by the runtime's RollingContext."""
    t: float
    trigger: Trigger = "end_of_turn"
    transcript: Transcript | None = None
    utterance_audio: np.ndarray | None = field(default=None, repr=False)
    keyframes: tuple[Keyframe, ...] = ()
    cue_summary: str = ""
    emotion: EmotionState | None = None
    face: FaceCue | None = None
    voice: VoiceCue | None = None
    text_cue: TextCue | None = None
    history: tuple[DialogueTurn, ...] = ()
    history_summary: str = ""
    silence_s: float = 0.0


@dataclass(frozen=True)
class BrainDelta:
    """One piece of a streamed answer. Exactly one field is set per delta.

    The stream yields the decision first (once), the emotion (once, optional),
    then response text pieces; ``note`` carries backend remarks for the trace
    (e.g. a fallback) and is never spoken.
    """
    decision: DecisionKind | None = None
    emotion: str | None = None
    text: str | None = None
    note: str | None = None


class Brain(Protocol):
    """Decides whether and how to answer; the runtime consumes the stream as it arrives."""

    name: str

    def respond(self, view: BrainView) -> AsyncIterator[BrainDelta]:
        ...

    async def warm_up(self) -> None:
        ...

    async def aclose(self) -> None:
        ...


@dataclass(frozen=True)
class MultimodalPrompt:
    """A backend-neutral request: system and user text, images (JPEG) and optional 16 kHz audio."""
    user: str
    system: str = ""
    images: tuple[bytes, ...] = ()
    audio: np.ndarray | None = field(default=None, repr=False)
    history: tuple[tuple[str, str], ...] = ()
    max_tokens: int = 512


class TextGenerator(Protocol):
    """A multimodal LLM that streams raw text; brains and the HumanSense harness build on it."""

    name: str

    def stream(self, prompt: MultimodalPrompt) -> AsyncIterator[str]:
        ...

    async def aclose(self) -> None:
        ...
