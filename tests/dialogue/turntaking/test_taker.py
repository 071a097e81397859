"""The TurnTaker as a whole: stop requests, initiative, impossible facts and invariants over random sequences."""
import logging
import random

import pytest

from dialogue.turntaking import (AgentFinished, AgentStarted, Backchannel, CheckIn, Commit, Discard, EndOfTurnScore,
                                 FaceSignal, Heard, Sound, Speculate, SpeechEnd, SpeechPause, SpeechResume, SpeechStart,
                                 StopAgent, StopRequest, Tick)
from tests.dialogue.turntaking.script import CHUNK, LOUD, Script, speaking, taker


def test_a_stop_request_discards_whatever_the_agent_is_doing():
    s = speaking()
    s.feed(StopRequest(s.t, "client"))
    assert s.commands(Discard) == [Discard("client", pytest.approx(s.t))]
    assert s.tt.agent_state == "idle"


# ---- initiative ------------------------------------------------------------------------------------------------------
def test_a_long_negative_silence_gets_one_check_in():
    s = speaking()
    s.feed(AgentFinished(s.t))
    finished = s.t
    for _ in range(40):
        s.t += 0.25
        s.feed(Tick(s.t, valence=-0.6))
    (t, _), = [(t, c) for t, c in s.out if isinstance(c, CheckIn)]
    assert t - finished == pytest.approx(8.0, abs=0.25)


def test_no_check_in_when_the_mood_is_not_negative():
    s = Script()
    for _ in range(60):
        s.t += 0.25
        s.feed(Tick(s.t, valence=0.2))
    assert not s.commands(CheckIn)


def test_a_long_monologue_gets_a_backchannel():
    s = Script(taker(backchannel_after_s=2.5))
    s.sound(0.2, 0.9, LOUD, True).feed(SpeechStart(0.0)).sound(3.0, 0.9, LOUD, True)
    assert s.first(Backchannel)[0] == pytest.approx(2.5, abs=CHUNK + 1e-6)
    assert not s.commands(Commit)


# ---- impossible facts and invariants ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fact", [SpeechPause(1.0), SpeechResume(1.0), AgentStarted(1.0), AgentFinished(1.0),
                                  EndOfTurnScore(1.0, 3.0), Sound(0.5, -1.0, 0.9, LOUD, True)])
def test_an_impossible_fact_logs_one_warning_and_is_ignored(fact, caplog):
    tt = taker()
    tt.feed(Tick(2.0))
    with caplog.at_level(logging.WARNING, logger="dialogue.turntaking"):
        assert tt.feed(fact) == []
    assert len(caplog.records) == 1 and "ignored" in caplog.text
    assert tt.agent_state == "idle"


def test_time_running_backwards_is_ignored(caplog):
    tt = taker()
    tt.feed(Tick(5.0))
    with caplog.at_level(logging.WARNING, logger="dialogue.turntaking"):
        assert tt.feed(Tick(4.0)) == []
    assert "backwards" in caplog.text and tt.now == 5.0


def test_a_chunk_that_ended_just_before_the_last_tick_still_counts():
    s = speaking()
    onset = s.t
    s.feed(Tick(s.t + 0.02))                              # the wall clock's tick runs a little ahead of the audio
    s.sound(0.2, 0.9, LOUD, voiced=True)
    assert s.first(StopAgent)[1] == StopAgent(pytest.approx(onset))


def _random_fact(rng, t, tt):
    """Mostly plausible facts (words for the current pause, playback after a commit), some impossible ones."""
    jitter = t + rng.uniform(-0.5, 0.2)
    pause = tt.pause_t if tt.pause_t is not None and rng.random() < 0.7 else round(jitter, 1)
    if tt.agent_state == "committed" and rng.random() < 0.3:
        return AgentStarted(t)
    kind = rng.randrange(12)
    return [Sound(t, CHUNK, rng.random(), rng.uniform(-80, -10), rng.random() < 0.5), SpeechStart(jitter),
            SpeechPause(jitter), SpeechResume(jitter), SpeechEnd(jitter),
            Heard(pause, rng.choice(["", "Yeah.", "I went home and", "Stop it.", "Hello."])),
            EndOfTurnScore(pause, rng.uniform(-0.2, 1.2)), AgentStarted(t), AgentFinished(t, rng.random() < 0.7),
            StopRequest(t), Tick(t, rng.uniform(-1, 1)),
            FaceSignal(t, rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.5)][kind]


@pytest.mark.parametrize("seed", range(40))
def test_random_and_impossible_sequences_keep_the_invariants(seed, caplog):
    """Never two answers at once, never a commit without user speech, never an exception."""
    rng = random.Random(seed)
    tt = taker(backchannel_after_s=1.0)
    pending = False            # an answer committed (or a check-in) and not yet ended
    speech_onsets = set()      # every moment the user was heard starting to speak
    t = 0.0
    with caplog.at_level(logging.ERROR):
        for _ in range(400):
            t += rng.choice([0.0, CHUNK, CHUNK, 0.2]) * (-1 if rng.random() < 0.02 else 1)
            fact = _random_fact(rng, max(t, 0.0), tt)
            if isinstance(fact, (SpeechStart, SpeechResume)) or (isinstance(fact, Sound) and fact.probability >= 0.5):
                speech_onsets.add(fact.t)
            before = tt.agent_state
            commands = tt.feed(fact)
            if isinstance(fact, AgentFinished) and before != "idle" and tt.agent_state == "idle":
                pending = False
            for c in commands:
                if isinstance(c, (Commit, CheckIn)):
                    assert not pending, f"second answer while one is pending: {c}"
                    pending = True
                if isinstance(c, (Commit, Speculate)):
                    assert c.start in speech_onsets, f"{c} without user speech"
                if isinstance(c, Discard):
                    pending = False
    assert tt.agent_state in ("idle", "preparing", "committed", "speaking", "stopped")
