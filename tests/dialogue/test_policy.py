"""Turn-taking: the state machine's transitions and its timing rules, as a specification."""
import pytest

from dialogue.policy import Endpointing, TurnPolicy, TurnState
from dialogue.settings import PolicySettings

L, U, D, S = TurnState.LISTENING, TurnState.USER_SPEAKING, TurnState.DECIDING, TurnState.SPEAKING


@pytest.mark.parametrize("signals, final", [
    (["user_started", "turn_ended", "agent_started", "agent_finished"], L),   # a plain exchange
    (["user_started", "turn_ended", "no_reply"], L),                          # brain said wait
    (["user_started", "turn_ended", "agent_started", "user_started"], U),     # barge-in while speaking
    (["user_started", "turn_ended", "user_started"], U),                      # user went on while deciding
    (["proactive", "agent_started", "agent_finished"], L),                    # check-in after silence
    (["agent_started"], L),                                                   # impossible: ignored
    (["turn_ended"], L),
])
def test_transitions(signals, final):
    policy = TurnPolicy(PolicySettings())
    for name in signals:
        policy.signal(name)
    assert policy.state is final


def test_barge_in_only_while_deciding_or_speaking():
    policy = TurnPolicy(PolicySettings())
    assert not policy.is_barge_in()
    policy.signal("user_started")
    assert not policy.is_barge_in()
    policy.signal("turn_ended")
    assert policy.is_barge_in()
    policy.signal("agent_started")
    assert policy.is_barge_in()


def test_proactive_check_in_needs_a_long_negative_silence_once():
    policy = TurnPolicy(PolicySettings(proactive_silence_s=8, proactive_valence=-0.35))
    assert policy.wants_check_in(9.0, -0.6, checked_in=False)
    assert not policy.wants_check_in(9.0, -0.6, checked_in=True)
    assert not policy.wants_check_in(5.0, -0.6, checked_in=False)
    assert not policy.wants_check_in(20.0, 0.1, checked_in=False)
    assert not policy.wants_check_in(20.0, None, checked_in=False)


def test_backchannel_is_off_by_default_and_fires_after_a_long_monologue():
    assert not TurnPolicy(PolicySettings()).wants_backchannel(30.0)
    policy = TurnPolicy(PolicySettings(backchannel_after_s=6.0))
    policy.signal("user_started")
    assert not policy.wants_backchannel(3.0)
    assert policy.wants_backchannel(6.5)


@pytest.mark.parametrize("text, needed", [
    ("I had a long day at work.", 250),
    ("Can you help me?", 250),
    ("I was thinking about", 600),          # no final punctuation
    ("I went home and.", 600),              # trails off on a conjunction
    ("Well, um.", 600),                     # a filler
    ("", 600),
])
def test_endpointing_waits_less_after_a_complete_sentence(text, needed):
    assert Endpointing(full_ms=600, fast_ms=250).pause_needed_ms(text) == needed


def test_endpointing_fast_path_can_be_disabled():
    assert Endpointing(full_ms=600, fast_ms=0).pause_needed_ms("Done.") == 600
