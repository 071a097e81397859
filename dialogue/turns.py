"""Turn-taking: one pure, clock-free TurnTaker fed facts (speech, words, playback, time) that answers with commands.

Nothing here reads a clock, starts a task or touches audio: the runtime feeds facts
stamped with timeline seconds and executes the commands, so every rule is tested with
synthetic sequences in milliseconds.

The rules:

* **A user turn** is every speech span since the last answer became audible. An answer
  prepared in a pause and dropped because the user went on never drops their words: the
  next :class:`Speculate` / :class:`Commit` covers the turn from its first span. A user who
  interrupts an answer within ``continuation_ms`` of its start, with words that carry on their
  sentence ("that I will forget everything"), was not done: the answer stops and the turn goes on
  from its first span.
* **End of turn** is decided in the pause. The answer is prepared :attr:`speculate_after_s`
  into it; the turn ends once the pause has lasted what the evidence asks for: ``hold_ms``
  when the words trail off mid-clause ("and", "um,", "because", a comma), when the face holds
  the floor (looking away with the mouth open, as people do while searching for a word) or when
  the acoustic end-of-turn model says "not finished" (its last two scores average below
  ``end_of_turn_low``); ``end_of_turn_pause_ms`` when two checks of the acoustic model say
  "finished" (averaging ``end_of_turn_threshold`` or more: single scores jump) and the words
  agree; ``fast_endpoint_ms`` after a complete sentence; ``silence_ms`` otherwise. Without the
  words only ``hold_ms`` ends a turn (the answer needs them anyway).
* **Sound over the agent** is an overlap. Speech that has been both as loud as the user's own
  running speech level and voiced stops the agent once it lasts ``barge_in_ms``; soft or
  unvoiced sound (a murmured "yeah", a cough) or speech while the user nods along only after
  ``backchannel_max_ms``; an overlap that ends sooner is ignored (noted as a backchannel or
  noise). A stopped agent resumes where it stopped once the user has stayed quiet
  ``resume_after_ms`` after an overlap that held no real words (only backchannels and fillers,
  a false start that trails off, none, or words the recognizer was unsure of or that its length
  could not hold: inventions) and was shorter than ``false_interruption_ms``; otherwise the stopped answer is
  discarded (what was heard stays in the history) and the overlap becomes the user's new turn.
* **Initiative**: a backchannel after ``backchannel_after_s`` of unbroken user speech; one
  check-in after ``proactive_silence_s`` of silence while the fused valence is clearly negative.

An impossible fact (a pause without speech, time running backwards, playback that never
started finishing) logs one warning and is ignored.
"""
from __future__ import annotations

import enum
import logging
import re
from collections import deque
from dataclasses import dataclass

import numpy as np

from dialogue.settings import PolicySettings
from perception.settings import VadSettings

logger = logging.getLogger(__name__)


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


# ---- the rules ----------------------------------------------------------------------------------------------
_TRAILING_INCOMPLETE = re.compile(
    # Words that (almost) never end a sentence. Not prepositions: "hold on", "what are you looking for?" are finished.
    r"(\b(and|but|or|because|cause|um+|uh+|er+|erm|the|a|an|of|if|than|i|my|your|our|their|you know|i mean|"
    r"kind of|sort of)|,|-|\.\.\.|…)\W*$", re.I)
_WORD = re.compile(r"[a-z']+(?:-[a-z']+)*")
_CONTINUING = re.compile(r"(and|but|or|so|because|that|which|who|then|um+|uh+)\b", re.I)
_FALSE_START_WORDS = 2
"""A trailing-off overlap this short ("I...", "so, um") is a false start the user gave up."""
MAX_WORDS_PER_S = 5.0
"""Faster than anyone speaks (conversational English runs 2-3 words a second)."""
LEVEL_FLOOR_DB = -60.0
"""Quieter than this is not speech, whatever the VAD says."""
_LEVEL_CHUNKS = 300
"""The user's running speech level is taken over their last this many speech chunks (about 10 s of speech)."""
_LEVEL_PERCENTILE = 75
"""... at this percentile, so it tracks the vowels (what a backchannel's loudest part compares with), not the pauses."""
_LATE_S = 0.5
"""Clock facts from different sources interleave a little out of order (a tick from the wall clock, then a chunk
that ended a few ms before it); only one this far behind the latest is time running backwards."""
_SILENT_RESUME_S = 2.0
"""A stopped agent whose overlap went quiet without any words to judge resumes after this long."""


def trails_off(text: str) -> bool:
    """The words end mid-clause: on a conjunction, a filler, an article, a comma or an ellipsis."""
    return bool(_TRAILING_INCOMPLETE.search(text.strip().rstrip(".?!").rstrip()) or text.strip().endswith(("...", "…")))


def is_complete(text: str) -> bool:
    """A finished sentence: final punctuation, and the words before it do not trail off."""
    text = text.strip()
    return bool(text) and text[-1] in ".?!" and not trails_off(text)


def no_real_words(text: str, speech_s: float, backchannels: tuple[str, ...]) -> bool:
    """Speech over the agent that says nothing to answer: backchannels and fillers, a false start that
    trails off ("I...", "so, um"), or words ``speech_s`` of sound could not hold."""
    false_start = trails_off(text) and len(_WORD.findall(text.lower())) <= _FALSE_START_WORDS
    return only_backchannel(text, backchannels) or false_start or not could_say(text, speech_s)


def continues(text: str) -> bool:
    """Words that carry on a sentence rather than start one: the recognizer wrote them in lower case ("that I will
    forget everything") or they open with a conjunction or a relative word."""
    text = text.strip()
    return bool(text) and (text[0].islower() or bool(_CONTINUING.match(text)))


def could_say(text: str, speech_s: float) -> bool:
    """Whether ``speech_s`` seconds of speech can hold these words; Whisper invents whole phrases for a short "hmm"."""
    return len(_WORD.findall(text.lower())) <= MAX_WORDS_PER_S * speech_s + 1


def only_backchannel(text: str, words: tuple[str, ...]) -> bool:
    """Nothing but backchannels and fillers ("yeah", "mm-hm, right", "uh") or no words at all."""
    said = " ".join(_WORD.findall(text.lower()))
    for phrase in sorted(words, key=len, reverse=True):
        said = re.sub(rf"\b{re.escape(phrase)}\b", " ", said)
    return not said.strip()


class _Agent(enum.Enum):
    IDLE = "idle"
    PREPARING = "preparing"    # an answer is being prepared in a pause, not committed
    COMMITTED = "committed"    # the turn is over, the answer is not audible yet
    SPEAKING = "speaking"
    STOPPED = "stopped"        # stopped by an overlap; it may resume


@dataclass
class _Overlap:
    onset: float
    last_sound: float
    usual_level: float | None  # the user's speech level when it began: what "soft" is measured against
    speech_s: float = 0.0
    loud: bool = False         # some of it as loud as the user's usual speech
    voiced: bool = False       # some of it periodic, like a voice (a cough is not)
    nodded: bool = False       # the user nodded along: listening, not taking the floor
    nothing_said: bool = False  # its words turned out to be none (a backchannel, a filler, a false start)
    confirmed: bool = False    # the VAD confirmed it as speech
    pause_t: float | None = None


class TurnTaker:
    """Feed facts with :meth:`feed`; execute the commands it returns, in order."""

    def __init__(self, policy: PolicySettings, vad: VadSettings, *, speculate_after_ms: int | None = 96,
                 barge_in_ms: int | None = None) -> None:
        self.policy = policy
        self.threshold = vad.threshold
        self.neg_threshold = vad.neg_threshold
        self.silence_ms = vad.end_of_turn_silence_ms
        self.speculate_after_s = None if speculate_after_ms is None else speculate_after_ms / 1000.0
        self.barge_in_s = (policy.barge_in_ms if barge_in_ms is None else barge_in_ms) / 1000.0
        self.agent = _Agent.IDLE
        self.now = 0.0
        self._levels: deque[float] = deque(maxlen=_LEVEL_CHUNKS)
        self._spans: list[list[float | None]] = []   # [start, end] of each speech span of the open turn
        self._speaking = False
        self._pause_t: float | None = None
        self._speculated = False
        self._heard: dict[float, str] = {}
        self._eot: dict[float, list[float]] = {}  # the acoustic model's scores of each pause, in order
        self._overlap: _Overlap | None = None
        self._holding_floor = False  # looking away with the mouth open in this pause: still thinking
        self._answered: tuple[float, list[list[float | None]]] = (-1e9, [])  # when the last answer began, and its turn
        self._last_activity = 0.0
        self._speech_since: float | None = None
        self._last_backchannel = -1e9
        self._checked_in = False

    # ---- what the runtime may ask ------------------------------------------------------------------------------
    @property
    def turn_start(self) -> float | None:
        return self._spans[0][0] if self._spans else None

    @property
    def user_level_db(self) -> float | None:
        """The user's usual speech level (dBFS), from their speech while the agent was silent."""
        return float(np.percentile(self._levels, _LEVEL_PERCENTILE)) if self._levels else None

    @property
    def agent_state(self) -> str:
        return self.agent.value

    @property
    def pause_t(self) -> float | None:
        """When the user's current pause began, while their turn is undecided."""
        return self._pause_t

    @property
    def user_speaking(self) -> bool:
        return self._speaking

    def feed(self, fact: Fact) -> list[Command]:
        handler = getattr(self, f"_on_{type(fact).__name__}", None)
        if handler is None:
            return self._impossible(fact, "not a turn-taking fact")
        return handler(fact)

    # ---- clock facts -----------------------------------------------------------------------------------------
    def _advance(self, fact: Fact, t: float) -> bool:
        if t < self.now - _LATE_S:
            self._impossible(fact, f"time went backwards (now {self.now:.3f} s)")
            return False
        self.now = max(self.now, t)
        return True

    def _on_Tick(self, fact: Tick) -> list[Command]:
        if not self._advance(fact, fact.t):
            return []
        out = self._on_time()
        p = self.policy
        if (self.agent is _Agent.IDLE and not self._spans and not self._checked_in and fact.valence is not None
                and fact.valence <= p.proactive_valence and self.now - self._last_activity >= p.proactive_silence_s):
            self._checked_in = True
            self.agent = _Agent.COMMITTED
            out.append(CheckIn(self.now))
        return out

    def _on_Sound(self, fact: Sound) -> list[Command]:
        if fact.duration < 0 or not self._advance(fact, fact.t + fact.duration):
            return [] if fact.duration >= 0 else self._impossible(fact, "negative duration")
        speech = fact.probability >= self.threshold and fact.level_db > LEVEL_FLOOR_DB
        if speech and not self._agent_audible:
            self._levels.append(fact.level_db)
        out = self._overlap_sound(fact, speech) if self._agent_audible else []
        return out + self._on_time()

    def _on_time(self) -> list[Command]:
        out: list[Command] = []
        pause, start = self._pause_t, self.turn_start
        if pause is not None and start is not None and self.agent in (_Agent.IDLE, _Agent.PREPARING):
            waited = self.now - pause
            if (self.agent is _Agent.IDLE and not self._speculated and self.speculate_after_s is not None
                    and waited >= self.speculate_after_s):
                self._speculated = True
                self.agent = _Agent.PREPARING
                out.append(Speculate(start, pause))
            needed = self.pause_needed_ms(pause)
            if waited * 1000.0 >= needed - 1e-6:
                self.agent = _Agent.COMMITTED
                out.append(Commit(start, pause, early=needed < self.silence_ms))
        p = self.policy
        since = self._speech_since
        if (p.backchannel_after_s > 0 and since is not None and self.agent is _Agent.IDLE
                and self.now - max(since, self._last_backchannel) >= p.backchannel_after_s):
            self._last_backchannel = self.now
            out.append(Backchannel(self.now))
        return out

    def pause_needed_ms(self, pause_t: float) -> float:
        """How long the pause at ``pause_t`` must last before the turn is over, given the evidence so far."""
        p = self.policy
        text = self._heard.get(pause_t)
        scores = self._eot.get(pause_t, [])[-2:]
        score = sum(scores) / len(scores) if scores else None
        if self.speculate_after_s is None and text is None:
            return self.silence_ms  # nothing transcribes in the pause: silence alone decides
        if text is None or self._holding_floor or trails_off(text):
            return p.hold_ms
        if score is not None:
            if score < p.end_of_turn_low:
                return p.hold_ms
            if score >= p.end_of_turn_threshold and len(scores) == 2:
                return min(p.end_of_turn_pause_ms, self.silence_ms)
        if p.fast_endpoint_ms > 0 and is_complete(text):
            return min(p.fast_endpoint_ms, self.silence_ms)
        return self.silence_ms

    # ---- speech facts ------------------------------------------------------------------------------------------
    def _on_SpeechStart(self, fact: SpeechStart) -> list[Command]:
        if self._speaking and not self._agent_audible:
            return self._impossible(fact, "speech started while the user was already speaking")
        return self._speech_begins(fact.t)

    def _on_SpeechResume(self, fact: SpeechResume) -> list[Command]:
        if not self._agent_audible and (self._speaking or not self._spans):
            return self._impossible(fact, "speech resumed without a pause")
        return self._speech_begins(fact.t)

    @property
    def _agent_audible(self) -> bool:
        """User speech now is sound over the agent (an overlap), not part of a turn."""
        return self.agent in (_Agent.SPEAKING, _Agent.STOPPED)

    def _speech_begins(self, t: float) -> list[Command]:
        self._checked_in = False
        self._last_activity = max(self._last_activity, t)
        if self._agent_audible:
            overlap = self._overlap or self._new_overlap(t)
            overlap.confirmed = True
            overlap.pause_t = None
            overlap.nothing_said = False  # they go on: judge the words again at the next pause
            return []
        out: list[Command] = []
        if self.agent in (_Agent.PREPARING, _Agent.COMMITTED):
            out.append(Discard("user_continued", t))
            self.agent = _Agent.IDLE
        self._spans.append([t, None])
        self._speaking = True
        self._speech_since = t
        self._pause_t = None
        self._speculated = False
        self._holding_floor = False
        return out

    def _on_SpeechPause(self, fact: SpeechPause) -> list[Command]:
        return self._speech_stops(fact, fact.t)

    def _on_SpeechEnd(self, fact: SpeechEnd) -> list[Command]:
        if not self._speaking:
            return []  # the VAD closes a segment it already reported paused: nothing new
        return self._speech_stops(fact, fact.t)

    def _speech_stops(self, fact: Fact, t: float) -> list[Command]:
        if self._agent_audible:
            overlap = self._overlap
            if overlap is None or not overlap.confirmed or overlap.pause_t is not None:
                return []  # the VAD closing sound already judged (or judged later) by its chunks
            overlap.pause_t = max(t, overlap.onset)
            return [Transcribe(overlap.onset, overlap.pause_t)] if self.agent is _Agent.STOPPED else []
        if not self._speaking or not self._spans or t < (self._spans[-1][0] or 0.0):
            return self._impossible(fact, "speech stopped that had not started")
        self._spans[-1][1] = t
        self._speaking = False
        self._speech_since = None
        self._pause_t = t
        self._speculated = False
        self._last_activity = max(self._last_activity, t)
        return self._on_time()

    def _on_Heard(self, fact: Heard) -> list[Command]:
        overlap = self._overlap
        if self.agent is _Agent.STOPPED and overlap is not None and overlap.pause_t == fact.pause_t:
            if fact.text is not None and overlap.speech_s * 1000.0 < self.policy.false_interruption_ms and (
                    fact.confidence < self.policy.overlap_word_confidence
                    or no_real_words(fact.text, overlap.speech_s, self.policy.backchannel_words)):
                overlap.nothing_said = True  # resumed once the user has stayed quiet a moment (see _overlap_sound)
                return self._on_time()
            self._overlap = None
            return self._interrupted(overlap, heard=fact.text)
        if fact.pause_t != self._pause_t:
            return []  # words of a pause the user has since talked through: the next one covers them
        self._heard[fact.pause_t] = fact.text or ""
        return self._on_time()

    def _on_FaceSignal(self, fact: FaceSignal) -> list[Command]:
        if self._overlap is not None and fact.nod:
            self._overlap.nodded = True
        if self._pause_t is not None and fact.t >= self._pause_t:
            self._holding_floor = fact.gaze_away and fact.mouth_open
            return self._on_time()
        return []

    def _on_EndOfTurnScore(self, fact: EndOfTurnScore) -> list[Command]:
        if not 0.0 <= fact.probability <= 1.0:
            return self._impossible(fact, "probability outside 0..1")
        if fact.pause_t != self._pause_t:
            return []
        self._eot.setdefault(fact.pause_t, []).append(fact.probability)
        return self._on_time()

    # ---- the agent's playback --------------------------------------------------------------------------------
    def _on_AgentStarted(self, fact: AgentStarted) -> list[Command]:
        if self.agent is not _Agent.COMMITTED:
            return self._impossible(fact, f"agent started while {self.agent.value}")
        self.agent = _Agent.SPEAKING
        self._answered = (fact.t, [list(span) for span in self._spans])
        self._close_turn()
        return []

    def _on_AgentFinished(self, fact: AgentFinished) -> list[Command]:
        if self.agent not in (_Agent.COMMITTED, _Agent.SPEAKING, _Agent.STOPPED):
            return self._impossible(fact, f"agent finished while {self.agent.value}")
        self.agent = _Agent.IDLE
        self._last_activity = max(self._last_activity, fact.t)
        if not fact.spoke:
            self._close_turn()
        overlap, self._overlap = self._overlap, None
        if overlap is not None and overlap.confirmed:
            # The user was still talking when the agent finished: that is their next turn.
            self._spans = [[overlap.onset, overlap.pause_t]]
            self._speaking = overlap.pause_t is None
            self._speech_since = overlap.onset if self._speaking else None
            self._pause_t = overlap.pause_t
        return []

    def _on_StopRequest(self, fact: StopRequest) -> list[Command]:
        if self.agent is _Agent.IDLE:
            return []
        self.agent = _Agent.IDLE
        self._overlap = None
        return [Discard(fact.reason, fact.t)]

    def _close_turn(self) -> None:
        self._spans = []
        self._speaking = False
        self._speech_since = None
        self._pause_t = None
        self._speculated = False
        self._heard.clear()
        self._eot.clear()
        self._holding_floor = False

    # ---- overlaps ------------------------------------------------------------------------------------------------
    def _new_overlap(self, t: float) -> _Overlap:
        self._overlap = _Overlap(onset=t, last_sound=t, usual_level=self.user_level_db)
        return self._overlap

    def _overlap_sound(self, fact: Sound, speech: bool) -> list[Command]:
        p = self.policy
        overlap = self._overlap
        end = fact.t + fact.duration
        if speech:
            overlap = overlap or self._new_overlap(fact.t)
            overlap.speech_s += fact.duration
            overlap.last_sound = end
            usual = overlap.usual_level
            overlap.loud |= usual is None or fact.level_db >= usual - p.soft_overlap_db
            overlap.voiced |= fact.voiced
            strong = overlap.loud and overlap.voiced and not overlap.nodded
            if self.agent is _Agent.SPEAKING and (
                    (strong and overlap.speech_s >= self.barge_in_s - 1e-6)
                    or overlap.speech_s * 1000.0 >= p.backchannel_max_ms):
                self.agent = _Agent.STOPPED
                return [StopAgent(overlap.onset)]
            if self.agent is _Agent.STOPPED and overlap.speech_s * 1000.0 >= p.false_interruption_ms:
                self._overlap = None
                return self._interrupted(overlap)
            return []
        if overlap is None or fact.probability >= self.neg_threshold:
            return []
        quiet = end - overlap.last_sound
        if self.agent is _Agent.SPEAKING and quiet * 1000.0 >= p.overlap_gap_ms:
            self._overlap = None
            kind = "backchannel" if overlap.voiced or overlap.confirmed else "noise"
            return [OverlapIgnored(overlap.onset, overlap.last_sound, kind)]
        if self.agent is _Agent.STOPPED and (
                (overlap.nothing_said and quiet * 1000.0 >= p.resume_after_ms)
                or (not overlap.confirmed and quiet * 1000.0 >= p.overlap_gap_ms) or quiet >= _SILENT_RESUME_S):
            # No real words and the user stays quiet; too short for the VAD to call it speech; or no words came
            # back in time: nothing was said.
            self._overlap = None
            self.agent = _Agent.SPEAKING
            return [ResumeAgent(overlap.onset)]
        return []

    def _interrupted(self, overlap: _Overlap, heard: str | None = None) -> list[Command]:
        """A real interruption: the stopped answer ends and the overlap is the user's next turn; or, when it began
        within ``continuation_ms`` of the answer, it goes on with the turn just answered (they were not done)."""
        started, answered = self._answered
        going_on = (overlap.onset - started < self.policy.continuation_ms / 1000.0 and heard is not None
                    and continues(heard))
        self.agent = _Agent.IDLE
        self._close_turn()
        self._spans = (answered if going_on else []) + [[overlap.onset, overlap.pause_t]]
        self._speaking = overlap.pause_t is None
        self._speech_since = overlap.onset if self._speaking else None
        self._pause_t = overlap.pause_t
        if heard is not None and overlap.pause_t is not None and not going_on:
            self._heard[overlap.pause_t] = heard
        return [Discard("user_continued" if going_on else "user_speech", overlap.onset)] + self._on_time()

    def _impossible(self, fact: object, why: str) -> list[Command]:
        logger.warning("turn-taking: ignored %r: %s", fact, why)
        return []
