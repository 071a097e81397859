"""The user's turn: how long a pause must last to end it, and which speech it covers."""
import pytest

from dialogue.settings import PolicySettings
from dialogue.turntaking import (AgentFinished, AgentStarted, Commit, Discard, EndOfTurnScore, FaceSignal, Heard,
                                 Speculate, TurnTaker)
from dialogue.turntaking.user_turn import UserTurn
from perception.settings import VadSettings
from tests.dialogue.turntaking.script import CHUNK, Script, answer_heard, taker


def paused_turn(speculating=True):
    """A turn of one span, 0 to 1 s, paused since 1 s."""
    turn = UserTurn(PolicySettings(), 600, speculating=speculating)
    turn.speech_begins(0.0)
    assert turn.speech_stops(1.0)
    return turn


def test_the_pause_needed_weighs_the_words_the_voice_and_the_face():
    turn = paused_turn()
    assert turn.pause_needed_ms(1.0) == 2000                  # no words yet: only the hold ends it
    turn.hear(1.0, "I went to the park")
    assert turn.pause_needed_ms(1.0) == 600                   # words without final punctuation: silence_ms
    turn.score(1.0, 0.9)
    assert turn.pause_needed_ms(1.0) == 600                   # one voice check is not enough
    turn.score(1.0, 0.8)
    assert turn.pause_needed_ms(1.0) == 500                   # two agree: end_of_turn_pause_ms
    turn.holding_floor = True
    assert turn.pause_needed_ms(1.0) == 2000


def test_without_speculation_a_pause_without_words_needs_only_silence():
    assert paused_turn(speculating=False).pause_needed_ms(1.0) == 600


def test_a_span_cannot_stop_before_it_started_or_twice():
    turn = UserTurn(PolicySettings(), 600, speculating=True)
    assert not turn.speech_stops(1.0)                         # nothing open
    turn.speech_begins(2.0)
    assert not turn.speech_stops(1.5)                         # before its start
    assert turn.speech_stops(2.5) and not turn.speech_stops(3.0)
    assert turn.spans == [[2.0, 2.5]] and turn.pause_t == 2.5


def test_speech_over_the_agent_reopens_the_turn_after_the_earlier_spans():
    turn = paused_turn()
    turn.hear(1.0, "Hello.")
    turn.close()
    assert turn.start is None and turn.pause_t is None
    turn.reopen([[0.0, 1.0]], 3.0, None)
    assert turn.spans == [[0.0, 1.0], [3.0, None]] and turn.start == 0.0
    assert turn.speaking and turn.speech_since == 3.0 and turn.pause_t is None


def test_the_answer_is_prepared_early_in_the_pause_and_played_after_a_complete_sentence():
    s = Script().quiet(0.5)
    start = s.t
    s.say(1.5)
    pause = s.t
    s.quiet(0.1)
    (t_spec, spec), = [(t, c) for t, c in s.out if isinstance(c, Speculate)]
    assert spec == Speculate(start, pause) and t_spec - pause == pytest.approx(0.096, abs=CHUNK)
    answer_heard(s, "I had a long day at work.").quiet(0.6)
    t_commit, commit = s.first(Commit)
    assert commit == Commit(start, pause, early=True)
    assert t_commit - pause == pytest.approx(PolicySettings().fast_endpoint_ms / 1000, abs=CHUNK)


@pytest.mark.parametrize("text, needed_ms", [
    ("I had a long day at work.", 500),       # complete: fast_endpoint_ms
    ("I went to the park", 600),              # no final punctuation: silence_ms
    ("and then I thought, um,", 2000),        # mid-clause: hold_ms
    ("because", 2000),
])
def test_how_long_the_pause_must_last_follows_the_words(text, needed_ms):
    s = Script().say(1.0)
    pause = s.t
    s.quiet(0.2)
    answer_heard(s, text).quiet(2.5)
    t_commit, _ = s.first(Commit)
    assert t_commit - pause == pytest.approx(needed_ms / 1000, abs=CHUNK + 1e-6)


def test_without_the_words_only_the_hold_ends_a_turn():
    s = Script().say(1.0)
    pause = s.t
    s.quiet(2.5)
    t_commit, _ = s.first(Commit)
    assert t_commit - pause == pytest.approx(2.0, abs=CHUNK)


def test_the_voice_model_shortens_a_finished_turn_and_holds_an_unfinished_one():
    finished = Script(taker(end_of_turn_pause_ms=200)).say(1.0)
    pause = finished.t
    finished.quiet(0.12)
    answer_heard(finished, "I went to the park").feed(EndOfTurnScore(pause, 0.9)).quiet(0.15)
    assert not finished.commands(Commit)                   # one check is not enough: single scores jump
    finished.feed(EndOfTurnScore(pause, 0.7)).quiet(1.0)
    assert finished.first(Commit)[0] - pause == pytest.approx(0.3, abs=CHUNK)

    unfinished = Script().say(1.0)
    pause = unfinished.t
    unfinished.quiet(0.12)
    answer_heard(unfinished, "I have been thinking.").feed(EndOfTurnScore(pause, 0.02)).quiet(2.5)   # one is enough
    assert unfinished.first(Commit)[0] - pause == pytest.approx(2.0, abs=CHUNK)


def test_looking_away_with_the_mouth_open_holds_the_floor():
    s = Script().say(1.0)
    pause = s.t
    s.quiet(0.12)
    answer_heard(s, "I had a long day.").feed(FaceSignal(s.t, gaze_away=True, mouth_open=True)).quiet(2.5)
    assert s.first(Commit)[0] - pause == pytest.approx(2.0, abs=CHUNK)


def test_looking_back_at_the_listener_gives_the_floor_back():
    s = Script().say(1.0)
    pause = s.t
    s.quiet(0.12)
    answer_heard(s, "I had a long day.").feed(FaceSignal(s.t, gaze_away=True, mouth_open=True)).quiet(0.5)
    s.feed(FaceSignal(s.t, gaze_away=False, mouth_open=False)).quiet(0.1)
    assert s.first(Commit)[0] - pause == pytest.approx(0.62, abs=CHUNK + 0.02)


def test_without_speculation_silence_alone_ends_the_turn():
    s = Script(TurnTaker(PolicySettings(), VadSettings(), speculate_after_ms=None)).say(1.0)
    pause = s.t
    s.quiet(1.0)
    assert not s.commands(Speculate)
    assert s.first(Commit)[0] - pause == pytest.approx(0.6, abs=CHUNK)


# ---- a turn is everything said since the last answer was heard -----------------------------------------------------
def test_going_on_after_a_pause_discards_the_unheard_answer_but_keeps_the_words():
    s = Script().quiet(0.3)
    start = s.t
    s.say(1.0).quiet(0.2)
    answer_heard(s, "I have been thinking.").quiet(0.3)   # committed at 400 ms, nothing heard yet
    assert s.commands(Commit)
    s.say(1.0)                                              # ... "about moving back home."
    assert s.commands(Discard) == [Discard("user_continued", pytest.approx(s.commands(Commit)[0].pause_t + 0.5, abs=0.05))]
    second_pause = s.t
    s.quiet(0.2)
    spec = s.commands(Speculate)[-1]
    assert spec == Speculate(start, second_pause)            # the new answer covers the whole turn from its start


def test_once_the_answer_is_heard_the_next_turn_starts_afresh():
    s = Script().quiet(0.3).say(1.0)
    s.quiet(0.2)
    answer_heard(s, "Hello there.").quiet(0.3)
    s.feed(AgentStarted(s.t)).quiet(1.0).feed(AgentFinished(s.t)).quiet(0.5)
    start = s.t
    s.say(1.0).quiet(0.2)
    assert s.commands(Speculate)[-1].start == pytest.approx(start)


def test_a_wait_decision_closes_the_turn():
    s = Script().say(1.0).quiet(0.2)
    answer_heard(s, "Hmm.").quiet(0.5)
    s.feed(AgentFinished(s.t, spoke=False)).quiet(1.0)
    start = s.t
    s.say(1.0).quiet(0.2)
    assert s.commands(Speculate)[-1].start == pytest.approx(start)


def test_a_pause_the_user_talked_through_does_not_count_its_stale_words():
    s = Script().say(1.0).quiet(0.2)
    stale = s.commands(Speculate)[-1]
    s.say(1.0)
    s.feed(Heard(stale.pause_t, "I'm done."))           # arrives late
    s.quiet(1.0)
    assert not s.commands(Commit) or s.commands(Commit)[-1].pause_t != stale.pause_t
