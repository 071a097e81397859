"""Sound over the agent: whether it stops the agent, is ignored, resumes a stopped agent or takes the floor."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from dialogue.settings import PolicySettings
from dialogue.turntaking.facts import Command, Heard, OverlapIgnored, ResumeAgent, Sound, StopAgent, Transcribe
from dialogue.turntaking.words import no_real_words

_LEVEL_CHUNKS = 300
"""The user's running speech level is taken over their last this many speech chunks (about 10 s of speech)."""
_LEVEL_PERCENTILE = 75
"""... at this percentile, so it tracks the vowels (what a backchannel's loudest part compares with), not the pauses."""
_SILENT_RESUME_S = 2.0
"""A stopped agent whose overlap went quiet without any words to judge resumes after this long."""


@dataclass
class Overlap:
    """One stretch of user sound over the agent, as judged so far."""
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


@dataclass(frozen=True)
class TakeOver:
    """The overlap takes the floor: the user's speech from ``onset`` (paused at ``pause_t``, None while it goes on)
    is their turn; ``heard`` is its words when known."""
    onset: float
    pause_t: float | None
    heard: str | None = None


Verdict = StopAgent | ResumeAgent | OverlapIgnored | TakeOver | None
"""What one sound over the agent decides; None: nothing yet."""


class OverlapJudge:
    """Follows the one overlap at a time while the agent is audible; ``stopped`` tells it whether the agent is
    speaking or stopped by this overlap. It never changes the agent's state: the TurnTaker acts on its verdicts."""

    def __init__(self, policy: PolicySettings, *, neg_threshold: float, barge_in_s: float) -> None:
        self.policy = policy
        self.neg_threshold = neg_threshold
        self.barge_in_s = barge_in_s
        self.current: Overlap | None = None
        self._levels: deque[float] = deque(maxlen=_LEVEL_CHUNKS)

    @property
    def user_level_db(self) -> float | None:
        """The user's usual speech level (dBFS), from their speech while the agent was silent."""
        return float(np.percentile(self._levels, _LEVEL_PERCENTILE)) if self._levels else None

    def user_spoke(self, level_db: float) -> None:
        """A chunk of the user's speech while the agent was silent: it sets what "soft" means."""
        self._levels.append(level_db)

    def sound(self, fact: Sound, speech: bool, *, stopped: bool) -> Verdict:
        """Judge one chunk of sound over the agent; ``speech`` is whether it counts as speech."""
        if speech:
            return self._speech(fact, stopped)
        overlap = self.current
        if overlap is None or fact.probability >= self.neg_threshold:
            return None
        p = self.policy
        quiet = fact.t + fact.duration - overlap.last_sound
        if not stopped and quiet * 1000.0 >= p.overlap_gap_ms:
            self.current = None
            kind = "backchannel" if overlap.voiced or overlap.confirmed else "noise"
            return OverlapIgnored(overlap.onset, overlap.last_sound, kind)
        if stopped and ((overlap.nothing_said and quiet * 1000.0 >= p.resume_after_ms)
                        or (not overlap.confirmed and quiet * 1000.0 >= p.overlap_gap_ms) or quiet >= _SILENT_RESUME_S):
            # No real words and the user stays quiet; too short for the VAD to call it speech; or no words came
            # back in time: nothing was said.
            self.current = None
            return ResumeAgent(overlap.onset)
        return None

    def _speech(self, fact: Sound, stopped: bool) -> Verdict:
        p = self.policy
        overlap = self.current or self._begin(fact.t)
        overlap.speech_s += fact.duration
        overlap.last_sound = fact.t + fact.duration
        usual = overlap.usual_level
        overlap.loud |= usual is None or fact.level_db >= usual - p.soft_overlap_db
        overlap.voiced |= fact.voiced
        strong = overlap.loud and overlap.voiced and not overlap.nodded
        if not stopped and ((strong and overlap.speech_s >= self.barge_in_s - 1e-6)
                            or overlap.speech_s * 1000.0 >= p.backchannel_max_ms):
            return StopAgent(overlap.onset)
        if stopped and overlap.speech_s * 1000.0 >= p.false_interruption_ms:
            self.current = None
            return TakeOver(overlap.onset, overlap.pause_t)
        return None

    def _begin(self, t: float) -> Overlap:
        self.current = Overlap(onset=t, last_sound=t, usual_level=self.user_level_db)
        return self.current

    def speech_confirmed(self, t: float) -> None:
        """The VAD heard speech (again) from ``t``: the words are judged anew at its next pause."""
        overlap = self.current or self._begin(t)
        overlap.confirmed = True
        overlap.pause_t = None
        overlap.nothing_said = False

    def speech_paused(self, t: float, *, stopped: bool) -> list[Command]:
        """The VAD heard the overlap pause at ``t``; a stopped agent needs its words to judge it."""
        overlap = self.current
        if overlap is None or not overlap.confirmed or overlap.pause_t is not None:
            return []  # the VAD closing sound already judged (or judged later) by its chunks
        overlap.pause_t = max(t, overlap.onset)
        return [Transcribe(overlap.onset, overlap.pause_t)] if stopped else []

    def awaits(self, pause_t: float) -> bool:
        """Whether the overlap waits for the words up to its pause at ``pause_t``."""
        return self.current is not None and self.current.pause_t == pause_t

    def heard(self, fact: Heard) -> TakeOver | None:
        """Judge the words the overlap :meth:`awaits`: None when they say nothing to answer (the agent resumes once
        the user stays quiet ``resume_after_ms``), else the overlap takes the floor."""
        overlap = self.current
        if overlap is None or overlap.pause_t != fact.pause_t:
            raise ValueError(f"turn-taking: no overlap awaits the words of the pause at {fact.pause_t}")
        p = self.policy
        if fact.text is not None and overlap.speech_s * 1000.0 < p.false_interruption_ms and (
                fact.confidence < p.overlap_word_confidence
                or no_real_words(fact.text, overlap.speech_s, p.backchannel_words)):
            overlap.nothing_said = True
            return None
        self.current = None
        return TakeOver(overlap.onset, overlap.pause_t, fact.text)

    def nod(self) -> None:
        """The user nodded: the overlap now is listening, not taking the floor."""
        if self.current is not None:
            self.current.nodded = True

    def finish(self) -> TakeOver | None:
        """The agent finished by itself: speech the VAD confirmed over it is the user's next turn."""
        overlap, self.current = self.current, None
        if overlap is None or not overlap.confirmed:
            return None
        return TakeOver(overlap.onset, overlap.pause_t)

    def drop(self) -> None:
        """The agent was stopped from outside: the overlap no longer matters."""
        self.current = None
