"""Types the brain reads and writes: the context view, decisions, streamed deltas, the Brain protocol."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Literal, Protocol

import numpy as np

# The decisions and emotions are declared with the answer format; every brain reads them from here.
from dialogue.answer_format import AGENT_EMOTIONS as AGENT_EMOTIONS, DECISIONS as DECISIONS, AnswerFormat
from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue

DecisionKind = Literal["respond", "backchannel", "wait"]

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
class Acknowledgement:
    """A short phrase said at once while a slow model composes, in the voice of ``emotion``."""
    text: str
    emotion: str


@dataclass(frozen=True)
class BrainDelta:
    """One piece of a streamed answer. Exactly one field is set per delta.

    The stream yields the decision first (once), the emotion (once, optional),
    then response text pieces; ``note`` carries backend remarks for the trace
    (a fallback, a repaired answer) and is never spoken. ``acknowledgement`` comes
    first when a slow model will not have its first sentence ready in time: a short
    phrase to say at once, which the model's words then follow (it was told).
    """
    decision: DecisionKind | None = None
    emotion: str | None = None
    text: str | None = None
    note: str | None = None
    acknowledgement: Acknowledgement | None = None


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
    """A backend-neutral request: system text, earlier turns as chat messages, then the new user message with
    images (JPEG) and optional 16 kHz audio. ``answer_format`` asks engines that can constrain decoding for
    that format (None: free text)."""
    user: str
    system: str = ""
    images: tuple[bytes, ...] = ()
    audio: np.ndarray | None = field(default=None, repr=False)
    history: tuple[tuple[str, str], ...] = ()
    max_tokens: int = 512
    answer_format: AnswerFormat | None = None


@dataclass(frozen=True)
class GenerationStats:
    """How one generation went. ``prefilled_tokens``: prompt tokens the engine had to process (not found in its
    cache), exact in-process, estimated for a server; ``tokens_after_cancel``: tokens made between the stop
    request and the actual stop; ``truncated``: the answer was cut at its token limit."""
    new_tokens: int
    first_piece_s: float | None
    total_s: float
    cancelled: bool = False
    tokens_after_cancel: int = 0
    prompt_tokens: int | None = None
    prefilled_tokens: int | None = None
    prefill_s: float | None = None
    truncated: bool = False


class TextGenerator(Protocol):
    """A multimodal LLM that streams raw text; brains and the HumanSense harness build on it."""

    name: str

    def stream(self, prompt: MultimodalPrompt) -> AsyncIterator[str]:
        ...

    async def aclose(self) -> None:
        ...
