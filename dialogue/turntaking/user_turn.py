"""The user's open turn: its speech spans, the pause it is in, and how long that pause must last to end it."""
from __future__ import annotations

from dialogue.settings import PolicySettings
from dialogue.turntaking.words import is_complete, trails_off

Span = list[float | None]
"""[start, end] of one stretch of speech; the end is None while it goes on."""


class UserTurn:
    """Every speech span since the last answer became audible, and the evidence gathered in the current pause.

    ``speculating`` is whether words come in the pause (the answer is prepared in it); without them silence
    alone ends the turn.
    """

    def __init__(self, policy: PolicySettings, silence_ms: float, *, speculating: bool) -> None:
        self.policy = policy
        self.silence_ms = silence_ms
        self.speculating = speculating
        self.spans: list[Span] = []
        self.speaking = False
        self.speech_since: float | None = None  # when the user's current unbroken speech began
        self.pause_t: float | None = None
        self.speculated = False      # an answer is being prepared for this pause
        self.holding_floor = False   # looking away with the mouth open in this pause: still thinking
        self._heard: dict[float, str] = {}
        self._eot: dict[float, list[float]] = {}  # the acoustic model's scores of each pause, in order

    @property
    def start(self) -> float | None:
        return self.spans[0][0] if self.spans else None

    def speech_begins(self, t: float) -> None:
        """A new span opens at ``t``; the pause it ends, and its evidence, no longer count."""
        self.spans.append([t, None])
        self.speaking = True
        self.speech_since = t
        self.pause_t = None
        self.speculated = False
        self.holding_floor = False

    def speech_stops(self, t: float) -> bool:
        """The open span ends at ``t`` and a pause begins; False (nothing changed) when no span is open before ``t``."""
        if not self.speaking or not self.spans or t < (self.spans[-1][0] or 0.0):
            return False
        self.spans[-1][1] = t
        self.speaking = False
        self.speech_since = None
        self.pause_t = t
        self.speculated = False
        return True

    def reopen(self, earlier: list[Span], onset: float, pause_t: float | None) -> None:
        """Speech the user began at ``onset`` over the agent is now their turn, after the ``earlier`` spans."""
        self.spans = earlier + [[onset, pause_t]]
        self.speaking = pause_t is None
        self.speech_since = onset if self.speaking else None
        self.pause_t = pause_t

    def close(self) -> None:
        """The turn was answered (or let go): nothing of it counts any more."""
        self.spans = []
        self.speaking = False
        self.speech_since = None
        self.pause_t = None
        self.speculated = False
        self._heard.clear()
        self._eot.clear()
        self.holding_floor = False

    def hear(self, pause_t: float, text: str) -> None:
        """The words of the turn up to the pause at ``pause_t``."""
        self._heard[pause_t] = text

    def score(self, pause_t: float, probability: float) -> None:
        """One check of the acoustic end-of-turn model at the pause ``pause_t``."""
        self._eot.setdefault(pause_t, []).append(probability)

    def pause_needed_ms(self, pause_t: float) -> float:
        """How long the pause at ``pause_t`` must last before the turn is over, given the evidence so far."""
        p = self.policy
        text = self._heard.get(pause_t)
        scores = self._eot.get(pause_t, [])[-2:]
        score = sum(scores) / len(scores) if scores else None
        if not self.speculating and text is None:
            return self.silence_ms  # nothing transcribes in the pause: silence alone decides
        if text is None or self.holding_floor or trails_off(text):
            return p.hold_ms
        if score is not None:
            if score < p.end_of_turn_low:
                return p.hold_ms
            if score >= p.end_of_turn_threshold and len(scores) == 2:
                return min(p.end_of_turn_pause_ms, self.silence_ms)
        if p.fast_endpoint_ms > 0 and is_complete(text):
            return min(p.fast_endpoint_ms, self.silence_ms)
        return self.silence_ms
