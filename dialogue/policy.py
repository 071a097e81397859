"""Turn-taking: the explicit state machine (listening, user speaking, deciding, speaking) and its timing rules."""
from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass

from dialogue.settings import PolicySettings

logger = logging.getLogger(__name__)


class TurnState(str, enum.Enum):
    LISTENING = "listening"
    USER_SPEAKING = "user_speaking"
    DECIDING = "deciding"
    SPEAKING = "speaking"


# (state, signal) -> next state. Signals are what the runtime observed or did.
_TRANSITIONS: dict[tuple[TurnState, str], TurnState] = {
    (TurnState.LISTENING, "user_started"): TurnState.USER_SPEAKING,
    (TurnState.USER_SPEAKING, "turn_ended"): TurnState.DECIDING,
    (TurnState.USER_SPEAKING, "user_started"): TurnState.USER_SPEAKING,
    (TurnState.LISTENING, "proactive"): TurnState.DECIDING,
    (TurnState.DECIDING, "agent_started"): TurnState.SPEAKING,
    (TurnState.DECIDING, "no_reply"): TurnState.LISTENING,
    (TurnState.DECIDING, "user_started"): TurnState.USER_SPEAKING,   # user went on: answer dropped
    (TurnState.SPEAKING, "agent_finished"): TurnState.LISTENING,
    (TurnState.SPEAKING, "user_started"): TurnState.USER_SPEAKING,   # barge-in
    (TurnState.SPEAKING, "agent_started"): TurnState.SPEAKING,
    (TurnState.SPEAKING, "no_reply"): TurnState.LISTENING,            # stopped before anything was heard
    (TurnState.DECIDING, "agent_finished"): TurnState.LISTENING,
    (TurnState.USER_SPEAKING, "no_reply"): TurnState.USER_SPEAKING,
    (TurnState.USER_SPEAKING, "agent_finished"): TurnState.USER_SPEAKING,
    (TurnState.LISTENING, "agent_finished"): TurnState.LISTENING,
    (TurnState.LISTENING, "no_reply"): TurnState.LISTENING,
}


class TurnPolicy:
    """Holds the conversation state; ``signal`` moves it and says whether that was a barge-in."""

    def __init__(self, settings: PolicySettings) -> None:
        self.settings = settings
        self.state = TurnState.LISTENING

    def signal(self, name: str) -> TurnState:
        nxt = _TRANSITIONS.get((self.state, name))
        if nxt is None:
            logger.debug("ignored signal %s in state %s", name, self.state.value)
            return self.state
        self.state = nxt
        return nxt

    def is_barge_in(self) -> bool:
        """User speech now would interrupt the agent (it is deciding or speaking)."""
        return self.state in (TurnState.DECIDING, TurnState.SPEAKING)

    def wants_check_in(self, silence_s: float, valence: float | None, checked_in: bool) -> bool:
        return (self.state is TurnState.LISTENING and not checked_in and valence is not None
                and valence <= self.settings.proactive_valence
                and silence_s >= self.settings.proactive_silence_s)

    def wants_backchannel(self, speaking_s: float) -> bool:
        limit = self.settings.backchannel_after_s
        return limit > 0 and self.state is TurnState.USER_SPEAKING and speaking_s >= limit


_TRAILING_INCOMPLETE = re.compile(
    r"\b(and|but|or|so|because|um+|uh+|er+|like|the|a|an|to|of|with|if|then|that|i|my|you know)\W*$", re.I)


@dataclass(frozen=True)
class Endpointing:
    """How long a pause must last before the turn counts as over, given what was said so far."""

    full_ms: int
    fast_ms: int

    def pause_needed_ms(self, transcript: str) -> int:
        text = transcript.strip()
        if self.fast_ms <= 0 or not text:
            return self.full_ms
        if text[-1] in ".?!" and not _TRAILING_INCOMPLETE.search(text[:-1]):
            return min(self.fast_ms, self.full_ms)
        return self.full_ms
