"""The turn-taking vocabulary: the facts fed to the TurnTaker and the commands it answers with (frozen values)."""
from __future__ import annotations

from dataclasses import dataclass


# ---- facts in ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sound:
    """One chunk of the user's audio as heard: speech probability, level (dBFS) and whether it is voiced."""
    t: float
    duration: float
    probability: float
    level_db: float
    voiced: bool


@dataclass(frozen=True)
class SpeechStart:
    t: float


@dataclass(frozen=True)
class SpeechPause:
    t: float


@dataclass(frozen=True)
class SpeechResume:
    t: float


@dataclass(frozen=True)
class SpeechEnd:
    """The VAD closed its segment; ``t`` is where speech ended."""
    t: float


@dataclass(frozen=True)
class Heard:
    """The transcript of the user's words from the turn's start up to the pause at ``pause_t``, and the
    recognizer's mean word probability (low when it invents words for a "hmm"). ``text`` is None when the
    recognizer failed: over the agent, speech whose words are unknown counts as an interruption."""
    pause_t: float
    text: str | None
    confidence: float = 1.0


@dataclass(frozen=True)
class EndOfTurnScore:
    """The acoustic end-of-turn model's probability that the turn is complete, at the pause ``pause_t``."""
    pause_t: float
    probability: float


@dataclass(frozen=True)
class FaceSignal:
    """What the face says about the floor at ``t``: a nod (listening), looking away with the mouth open (thinking)."""
    t: float
    nod: bool = False
    gaze_away: bool = False
    mouth_open: bool = False


@dataclass(frozen=True)
class AgentStarted:
    """The committed answer became audible."""
    t: float


@dataclass(frozen=True)
class AgentFinished:
    """The answer ended by itself; ``spoke`` is False when it said nothing (a ``wait`` decision)."""
    t: float
    spoke: bool = True


@dataclass(frozen=True)
class StopRequest:
    """Stop the agent now (a stop button, a disconnect)."""
    t: float
    reason: str = "client"


@dataclass(frozen=True)
class Tick:
    """Time passed; ``valence`` is the fused emotion valence now, for the check-in."""
    t: float
    valence: float | None = None


Fact = (Sound | SpeechStart | SpeechPause | SpeechResume | SpeechEnd | Heard | EndOfTurnScore | FaceSignal
        | AgentStarted | AgentFinished | StopRequest | Tick)


# ---- commands out -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Speculate:
    """Prepare (transcribe, think, synthesize) the answer to the user's words from ``start`` to the pause."""
    start: float
    pause_t: float


@dataclass(frozen=True)
class Commit:
    """The turn is over: play the answer prepared for it (or prepare it now). ``early`` = before ``silence_ms``."""
    start: float
    pause_t: float
    early: bool = False


@dataclass(frozen=True)
class Discard:
    """Drop the current answer; one already heard ends as interrupted at ``onset`` (its heard part is kept)."""
    reason: str
    onset: float


@dataclass(frozen=True)
class StopAgent:
    """Stop playback now and keep the rest: it may resume."""
    onset: float


@dataclass(frozen=True)
class ResumeAgent:
    """A false interruption: play the stopped answer on from where it stopped."""
    onset: float


@dataclass(frozen=True)
class Transcribe:
    """What did the user say over the stopped agent (``start`` to ``pause_t``)? Answer with :class:`Heard`."""
    start: float
    pause_t: float


@dataclass(frozen=True)
class Backchannel:
    t: float


@dataclass(frozen=True)
class CheckIn:
    t: float


@dataclass(frozen=True)
class OverlapIgnored:
    """User sound over the agent that did not stop it."""
    onset: float
    end: float
    kind: str  # "backchannel" or "noise"


Command = (Speculate | Commit | Discard | StopAgent | ResumeAgent | Transcribe | Backchannel | CheckIn
           | OverlapIgnored)
