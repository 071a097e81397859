"""The TurnTaker: the agent's state (idle, preparing, committed, speaking, stopped) driven by facts into commands."""
from __future__ import annotations

import enum
import logging

from dialogue.settings import PolicySettings
from dialogue.turntaking.facts import (AgentFinished, AgentStarted, Backchannel, CheckIn, Command, Commit, Discard,
                                       EndOfTurnScore, FaceSignal, Fact, Heard, ResumeAgent, Sound, Speculate,
                                       SpeechEnd, SpeechPause, SpeechResume, SpeechStart, StopAgent, StopRequest, Tick)
from dialogue.turntaking.overlaps import OverlapJudge, TakeOver, Verdict
from dialogue.turntaking.user_turn import Span, UserTurn
from dialogue.turntaking.words import continues
from perception.settings import VadSettings

logger = logging.getLogger(__name__)

LEVEL_FLOOR_DB = -60.0
"""Quieter than this is not speech, whatever the VAD says."""
_LATE_S = 0.5
"""Clock facts from different sources interleave a little out of order (a tick from the wall clock, then a chunk
that ended a few ms before it); only one this far behind the latest is time running backwards."""


class _Agent(enum.Enum):
    IDLE = "idle"
    PREPARING = "preparing"    # an answer is being prepared in a pause, not committed
    COMMITTED = "committed"    # the turn is over, the answer is not audible yet
    SPEAKING = "speaking"
    STOPPED = "stopped"        # stopped by an overlap; it may resume


def _ignored(fact: object, why: str) -> list[Command]:
    """An impossible fact: one warning, and nothing changes."""
    logger.warning("turn-taking: ignored %r: %s", fact, why)
    return []


class TurnTaker:
    """Feed facts with :meth:`feed`; execute the commands it returns, in order."""

    def __init__(self, policy: PolicySettings, vad: VadSettings, *, speculate_after_ms: int | None = 96,
                 barge_in_ms: int | None = None) -> None:
        self.policy = policy
        self.threshold = vad.threshold
        self.silence_ms = vad.end_of_turn_silence_ms
        self.speculate_after_s = None if speculate_after_ms is None else speculate_after_ms / 1000.0
        self.agent = _Agent.IDLE
        self.now = 0.0
        self.turn = UserTurn(policy, self.silence_ms, speculating=speculate_after_ms is not None)
        self.overlaps = OverlapJudge(policy, neg_threshold=vad.neg_threshold, barge_in_s=(
            policy.barge_in_ms if barge_in_ms is None else barge_in_ms) / 1000.0)
        self._answered: tuple[float, list[Span]] = (-1e9, [])  # when the last answer began, and its turn
        self._last_activity = 0.0
        self._last_backchannel = -1e9
        self._checked_in = False

    # ---- what the runtime may ask ------------------------------------------------------------------------------
    @property
    def turn_start(self) -> float | None:
        return self.turn.start

    @property
    def agent_state(self) -> str:
        return self.agent.value

    @property
    def pause_t(self) -> float | None:
        """When the user's current pause began, while their turn is undecided."""
        return self.turn.pause_t

    @property
    def user_speaking(self) -> bool:
        return self.turn.speaking

    def feed(self, fact: Fact) -> list[Command]:
        handler = getattr(self, f"_on_{type(fact).__name__}", None)
        if handler is None:
            return _ignored(fact, "not a turn-taking fact")
        return handler(fact)

    # ---- clock facts -----------------------------------------------------------------------------------------
    def _advance(self, fact: Fact, t: float) -> bool:
        if t < self.now - _LATE_S:
            _ignored(fact, f"time went backwards (now {self.now:.3f} s)")
            return False
        self.now = max(self.now, t)
        return True

    def _on_Tick(self, fact: Tick) -> list[Command]:
        if not self._advance(fact, fact.t):
            return []
        out = self._on_time()
        p = self.policy
        if (self.agent is _Agent.IDLE and not self.turn.spans and not self._checked_in and fact.valence is not None
                and fact.valence <= p.proactive_valence and self.now - self._last_activity >= p.proactive_silence_s):
            self._checked_in = True
            self.agent = _Agent.COMMITTED
            out.append(CheckIn(self.now))
        return out

    def _on_Sound(self, fact: Sound) -> list[Command]:
        if fact.duration < 0 or not self._advance(fact, fact.t + fact.duration):
            return [] if fact.duration >= 0 else _ignored(fact, "negative duration")
        speech = fact.probability >= self.threshold and fact.level_db > LEVEL_FLOOR_DB
        if speech and not self._agent_audible:
            self.overlaps.user_spoke(fact.level_db)
        stopped = self.agent is _Agent.STOPPED
        out = self._act(self.overlaps.sound(fact, speech, stopped=stopped)) if self._agent_audible else []
        return out + self._on_time()

    def _on_time(self) -> list[Command]:
        out: list[Command] = []
        turn = self.turn
        pause, start = turn.pause_t, turn.start
        if pause is not None and start is not None and self.agent in (_Agent.IDLE, _Agent.PREPARING):
            waited = self.now - pause
            if (self.agent is _Agent.IDLE and not turn.speculated and self.speculate_after_s is not None
                    and waited >= self.speculate_after_s):
                turn.speculated = True
                self.agent = _Agent.PREPARING
                out.append(Speculate(start, pause))
            needed = turn.pause_needed_ms(pause)
            if waited * 1000.0 >= needed - 1e-6:
                self.agent = _Agent.COMMITTED
                out.append(Commit(start, pause, early=needed < self.silence_ms))
        p = self.policy
        since = turn.speech_since
        if (p.backchannel_after_s > 0 and since is not None and self.agent is _Agent.IDLE
                and self.now - max(since, self._last_backchannel) >= p.backchannel_after_s):
            self._last_backchannel = self.now
            out.append(Backchannel(self.now))
        return out

    # ---- speech facts ------------------------------------------------------------------------------------------
    def _on_SpeechStart(self, fact: SpeechStart) -> list[Command]:
        if self.turn.speaking and not self._agent_audible:
            return _ignored(fact, "speech started while the user was already speaking")
        return self._speech_begins(fact.t)

    def _on_SpeechResume(self, fact: SpeechResume) -> list[Command]:
        if not self._agent_audible and (self.turn.speaking or not self.turn.spans):
            return _ignored(fact, "speech resumed without a pause")
        return self._speech_begins(fact.t)

    @property
    def _agent_audible(self) -> bool:
        """User speech now is sound over the agent (an overlap), not part of a turn."""
        return self.agent in (_Agent.SPEAKING, _Agent.STOPPED)

    def _speech_begins(self, t: float) -> list[Command]:
        self._checked_in = False
        self._last_activity = max(self._last_activity, t)
        if self._agent_audible:
            self.overlaps.speech_confirmed(t)
            return []
        out: list[Command] = []
        if self.agent in (_Agent.PREPARING, _Agent.COMMITTED):
            out.append(Discard("user_continued", t))
            self.agent = _Agent.IDLE
        self.turn.speech_begins(t)
        return out

    def _on_SpeechPause(self, fact: SpeechPause | SpeechEnd) -> list[Command]:
        if self._agent_audible:
            return self.overlaps.speech_paused(fact.t, stopped=self.agent is _Agent.STOPPED)
        if not self.turn.speech_stops(fact.t):
            return _ignored(fact, "speech stopped that had not started")
        self._last_activity = max(self._last_activity, fact.t)
        return self._on_time()

    def _on_SpeechEnd(self, fact: SpeechEnd) -> list[Command]:
        if not self.turn.speaking:
            return []  # the VAD closes a segment it already reported paused: nothing new
        return self._on_SpeechPause(fact)

    def _on_Heard(self, fact: Heard) -> list[Command]:
        if self.agent is _Agent.STOPPED and self.overlaps.awaits(fact.pause_t):
            take = self.overlaps.heard(fact)
            return self._on_time() if take is None else self._act(take)
        if fact.pause_t != self.turn.pause_t:
            return []  # words of a pause the user has since talked through: the next one covers them
        self.turn.hear(fact.pause_t, fact.text or "")
        return self._on_time()

    def _on_FaceSignal(self, fact: FaceSignal) -> list[Command]:
        if fact.nod:
            self.overlaps.nod()
        pause = self.turn.pause_t
        if pause is not None and fact.t >= pause:
            self.turn.holding_floor = fact.gaze_away and fact.mouth_open
            return self._on_time()
        return []

    def _on_EndOfTurnScore(self, fact: EndOfTurnScore) -> list[Command]:
        if not 0.0 <= fact.probability <= 1.0:
            return _ignored(fact, "probability outside 0..1")
        if fact.pause_t != self.turn.pause_t:
            return []
        self.turn.score(fact.pause_t, fact.probability)
        return self._on_time()

    # ---- the agent's playback --------------------------------------------------------------------------------
    def _on_AgentStarted(self, fact: AgentStarted) -> list[Command]:
        if self.agent is not _Agent.COMMITTED:
            return _ignored(fact, f"agent started while {self.agent.value}")
        self.agent = _Agent.SPEAKING
        self._answered = (fact.t, [list(span) for span in self.turn.spans])
        self.turn.close()
        return []

    def _on_AgentFinished(self, fact: AgentFinished) -> list[Command]:
        if self.agent not in (_Agent.COMMITTED, _Agent.SPEAKING, _Agent.STOPPED):
            return _ignored(fact, f"agent finished while {self.agent.value}")
        self.agent = _Agent.IDLE
        self._last_activity = max(self._last_activity, fact.t)
        if not fact.spoke:
            self.turn.close()
        take = self.overlaps.finish()
        if take is not None:
            # The user was still talking when the agent finished: that is their next turn.
            self.turn.reopen([], take.onset, take.pause_t)
        return []

    def _on_StopRequest(self, fact: StopRequest) -> list[Command]:
        if self.agent is _Agent.IDLE:
            return []
        self.agent = _Agent.IDLE
        self.overlaps.drop()
        return [Discard(fact.reason, fact.t)]

    # ---- overlaps ------------------------------------------------------------------------------------------------
    def _act(self, verdict: Verdict) -> list[Command]:
        """Carry out the overlap judge's verdict on the agent."""
        if verdict is None:
            return []
        if isinstance(verdict, TakeOver):
            return self._interrupted(verdict)
        if isinstance(verdict, StopAgent):
            self.agent = _Agent.STOPPED
        elif isinstance(verdict, ResumeAgent):
            self.agent = _Agent.SPEAKING
        return [verdict]

    def _interrupted(self, take: TakeOver) -> list[Command]:
        """A real interruption: the stopped answer ends and the overlap is the user's next turn; or, when it began
        within ``continuation_ms`` of the answer, it goes on with the turn just answered (they were not done)."""
        started, answered = self._answered
        going_on = (take.onset - started < self.policy.continuation_ms / 1000.0 and take.heard is not None
                    and continues(take.heard))
        self.agent = _Agent.IDLE
        self.turn.close()
        self.turn.reopen(answered if going_on else [], take.onset, take.pause_t)
        if take.heard is not None and take.pause_t is not None and not going_on:
            self.turn.hear(take.pause_t, take.heard)
        return [Discard("user_continued" if going_on else "user_speech", take.onset)] + self._on_time()
