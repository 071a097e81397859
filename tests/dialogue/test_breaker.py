"""The circuit breaker as a pure state machine on a virtual clock: closed, open, half-open, and back."""
from __future__ import annotations

import pytest

from dialogue.breaker import Admission, CircuitBreaker

COOLDOWN = 30.0


def _fail(breaker: CircuitBreaker, now: float, times: int = 1) -> CircuitBreaker:
    for _ in range(times):
        breaker, admission = breaker.admit(now)
        assert admission.call
        breaker = breaker.failed(now)
    return breaker


def test_a_closed_breaker_lets_every_call_through_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown_s=COOLDOWN)
    breaker = _fail(breaker, 0.0)
    breaker, admission = breaker.admit(1.0)
    assert admission == Admission(call=True)
    breaker = breaker.succeeded()
    breaker = _fail(breaker, 2.0)  # one failure again, not two in a row
    assert breaker.state(2.0) == "closed"


def test_consecutive_failures_open_it_and_calls_are_skipped_for_the_cooldown() -> None:
    breaker = _fail(CircuitBreaker(threshold=2, cooldown_s=COOLDOWN), 10.0, times=2)
    assert breaker.state(10.0) == "open"
    breaker, first = breaker.admit(12.0)
    assert first == Admission(call=False, first_skip=True, retry_in_s=28.0)
    breaker, later = breaker.admit(20.0)
    assert later == Admission(call=False, first_skip=False, retry_in_s=20.0)  # said once per opening
    assert breaker.state(39.9) == "open"


def test_after_the_cooldown_one_trial_goes_through_and_its_success_closes_the_breaker() -> None:
    breaker = _fail(CircuitBreaker(threshold=2, cooldown_s=COOLDOWN), 0.0, times=2)
    assert breaker.state(30.0) == "half_open"
    breaker, trial = breaker.admit(30.0)
    assert trial == Admission(call=True, trial=True)
    breaker, meanwhile = breaker.admit(30.5)
    assert not meanwhile.call  # only one trial at a time
    breaker = breaker.succeeded()
    assert breaker.state(31.0) == "closed" and breaker.failures == 0
    assert breaker.admit(31.0)[1] == Admission(call=True)


def test_a_failed_trial_opens_it_again_for_a_fresh_cooldown_and_says_so_again() -> None:
    breaker = _fail(CircuitBreaker(threshold=2, cooldown_s=COOLDOWN), 0.0, times=2)
    breaker, _ = breaker.admit(5.0)  # the opening is announced
    breaker, trial = breaker.admit(31.0)
    assert trial.trial
    breaker = breaker.failed(32.0)
    assert breaker.state(32.0) == "open" and breaker.state(61.9) == "open" and breaker.state(62.0) == "half_open"
    breaker, skip = breaker.admit(33.0)
    assert skip == Admission(call=False, first_skip=True, retry_in_s=29.0)
    assert breaker.failures == 3


def test_a_trial_whose_caller_stopped_listening_frees_the_next_call_to_try() -> None:
    breaker = _fail(CircuitBreaker(threshold=1, cooldown_s=COOLDOWN), 0.0)
    breaker, trial = breaker.admit(40.0)
    assert trial.trial
    breaker = breaker.released()
    assert breaker.admit(41.0)[1].trial


def test_threshold_zero_turns_the_breaker_off() -> None:
    breaker = _fail(CircuitBreaker(threshold=0, cooldown_s=COOLDOWN), 0.0, times=5)
    assert breaker.state(0.0) == "closed"
    assert breaker.admit(0.0)[1] == Admission(call=True)


@pytest.mark.parametrize("threshold", [1, 2, 5])
def test_it_opens_at_exactly_the_threshold(threshold: int) -> None:
    breaker = _fail(CircuitBreaker(threshold=threshold, cooldown_s=COOLDOWN), 0.0, times=threshold - 1)
    assert breaker.state(0.0) == "closed"
    assert _fail(breaker, 0.0).state(0.0) == "open"
