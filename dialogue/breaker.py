"""The circuit breaker that stops a failing brain backend from costing every turn: pure state, the clock passed in.

Closed: every call goes through. After ``threshold`` consecutive failed calls it
opens: calls are turned away (the fallback answers at once) for ``cooldown_s``.
Then it is half-open: one trial call goes through; its success closes the
breaker, its failure opens it again for another cooldown.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class Admission:
    """What to do with one call.

    ``call``: try the backend (``trial`` when it is the half-open trial).
    Otherwise the call is skipped: ``first_skip`` says it is the first one
    turned away since the breaker opened (the one that should say why), and
    ``retry_in_s`` is how long until a trial is allowed.
    """
    call: bool
    trial: bool = False
    first_skip: bool = False
    retry_in_s: float = 0.0


@dataclass(frozen=True)
class CircuitBreaker:
    """Immutable breaker state; every transition returns a new one. ``threshold`` 0 turns the breaker off."""
    threshold: int
    cooldown_s: float
    failures: int = 0  # consecutive
    opened_at: float | None = None
    trial_running: bool = False
    announced: bool = False  # the current opening was already reported by a skipped call

    def state(self, now: float) -> State:
        if self.opened_at is None:
            return "closed"
        return "open" if now - self.opened_at < self.cooldown_s else "half_open"

    def admit(self, now: float) -> tuple["CircuitBreaker", Admission]:
        """Whether a call at ``now`` may go to the backend, and the state after admitting (or skipping) it."""
        state = self.state(now)
        if self.threshold <= 0 or state == "closed":
            return self, Admission(call=True)
        if state == "half_open" and not self.trial_running:
            return replace(self, trial_running=True), Admission(call=True, trial=True)
        # Open, or half-open with the trial still running: a second trial would pay the same cost.
        assert self.opened_at is not None
        retry_in = max(0.0, self.opened_at + self.cooldown_s - now)
        return replace(self, announced=True), Admission(call=False, first_skip=not self.announced,
                                                        retry_in_s=retry_in)

    def succeeded(self) -> "CircuitBreaker":
        """A call answered: the backend works, the breaker closes."""
        return replace(self, failures=0, opened_at=None, trial_running=False, announced=False)

    def failed(self, now: float) -> "CircuitBreaker":
        """A call failed at ``now``; at the threshold the breaker (re)opens for a fresh cooldown."""
        failures = self.failures + 1
        if self.threshold <= 0 or failures < self.threshold:
            return replace(self, failures=failures, trial_running=False)
        # A new opening (from closed, or a failed trial) is reported again; a straggler while open is not.
        reopening = self.state(now) != "open"
        return replace(self, failures=failures, opened_at=now, trial_running=False,
                       announced=self.announced and not reopening)

    def released(self) -> "CircuitBreaker":
        """A call ended with no verdict (its consumer stopped listening): a trial it held may be tried again."""
        return replace(self, trial_running=False)
