"""Sound over the agent: what stops it, what it ignores, when it resumes and when the user takes the floor."""
import pytest

from dialogue.turntaking import (AgentFinished, Commit, Discard, FaceSignal, Heard, OverlapIgnored, ResumeAgent, Sound,
                                 Speculate, SpeechPause, SpeechStart, StopAgent, Transcribe)
from dialogue.settings import PolicySettings
from dialogue.turntaking.overlaps import OverlapJudge, TakeOver
from tests.dialogue.turntaking.script import CHUNK, LOUD, SOFT, speaking


def judge():
    return OverlapJudge(PolicySettings(), neg_threshold=0.35, barge_in_s=0.096)


def test_soft_is_measured_against_the_users_own_speech_level():
    j = judge()
    assert j.user_level_db is None
    for level in (-30.0, -20.0, -20.0, -20.0):
        j.user_spoke(level)
    assert j.user_level_db == -20.0                           # the vowels, not the quiet start
    for _ in range(4):                                        # 6 dB under it is soft: no barge-in
        assert j.sound(Sound(0.0, CHUNK, 0.9, -27.0, True), True, stopped=False) is None


def test_only_speech_the_vad_confirmed_is_the_next_turn_when_the_agent_finishes():
    j = judge()
    j.sound(Sound(1.0, CHUNK, 0.9, LOUD, False), True, stopped=False)
    assert j.finish() is None and j.current is None
    j.speech_confirmed(2.0)
    assert j.finish() == TakeOver(2.0, None)


def test_words_no_overlap_waits_for_are_refused_by_name():
    j = judge()
    j.speech_confirmed(1.0)
    assert j.speech_paused(1.5, stopped=True) == [Transcribe(1.0, 1.5)]
    assert j.awaits(1.5) and not j.awaits(2.0)
    with pytest.raises(ValueError, match="pause at 2.0"):
        j.heard(Heard(2.0, "Wait."))
    assert j.heard(Heard(1.5, "Wait.")) == TakeOver(1.0, 1.5, "Wait.")


def test_loud_voiced_speech_over_the_agent_stops_it_within_barge_in_ms():
    s = speaking()
    onset = s.t
    s.sound(0.3, 0.9, LOUD, voiced=True)
    t_stop, stop = s.first(StopAgent)
    assert stop == StopAgent(pytest.approx(onset)) and t_stop - onset == pytest.approx(0.096, abs=CHUNK + 1e-6)


def test_a_murmured_backchannel_does_not_stop_the_agent():
    s = speaking()
    onset = s.t
    s.sound(0.4, 0.9, SOFT, voiced=True).feed(SpeechStart(onset)).feed(SpeechPause(s.t)).quiet(0.5)
    assert not s.commands(StopAgent)
    assert s.commands(OverlapIgnored) == [OverlapIgnored(pytest.approx(onset), pytest.approx(onset + 0.416, abs=CHUNK),
                                                         "backchannel")]


def test_a_cough_does_not_stop_the_agent():
    s = speaking()
    onset = s.t
    s.sound(0.3, 0.7, LOUD, voiced=False).quiet(0.5)
    assert not s.commands(StopAgent)
    assert s.commands(OverlapIgnored)[0].kind == "noise" and s.commands(OverlapIgnored)[0].onset == pytest.approx(onset)


def test_a_quiet_start_that_was_loud_and_voiced_once_stops_at_barge_in_ms():
    s = speaking()
    onset = s.t
    s.feed(Sound(s.t, CHUNK, 0.9, LOUD, True))            # "A-" of "Actually"
    s.t += CHUNK
    s.sound(0.2, 0.9, SOFT, voiced=False)                 # "-ctually", quieter and breathy
    assert s.first(StopAgent)[0] - onset == pytest.approx(0.096, abs=CHUNK + 1e-6)


def test_speech_with_a_nod_is_a_backchannel_not_a_barge_in():
    s = speaking()
    onset = s.t
    s.feed(Sound(s.t, CHUNK, 0.9, LOUD, True), FaceSignal(s.t, nod=True))
    s.t += CHUNK
    s.sound(0.35, 0.9, LOUD, voiced=True).quiet(0.5)   # "yeah, yeah" said aloud while nodding
    assert not s.commands(StopAgent)
    assert s.commands(OverlapIgnored)[0].onset == pytest.approx(onset)


def test_soft_speech_that_goes_on_stops_the_agent_after_backchannel_max_ms():
    s = speaking()
    onset = s.t
    s.sound(1.0, 0.9, SOFT, voiced=True)
    assert s.first(StopAgent)[0] - onset == pytest.approx(0.7, abs=CHUNK + 1e-6)


def test_a_false_interruption_resumes_the_agent():
    s = speaking()
    onset = s.t
    s.say(0.4)                                   # "hmm", loud
    assert s.commands(StopAgent) and s.commands(Transcribe) == [Transcribe(pytest.approx(onset), pytest.approx(s.t))]
    s.quiet(0.1).feed(Heard(s.commands(Transcribe)[0].pause_t, "Hmm."))
    s.quiet(0.2)
    assert not s.commands(ResumeAgent)                     # they may only be drawing breath
    s.quiet(0.3)
    assert s.commands(ResumeAgent) == [ResumeAgent(pytest.approx(onset))]
    assert not s.commands(Discard)


def test_a_false_start_the_user_goes_on_from_is_a_real_interruption():
    s = speaking()
    onset = s.t
    s.say(0.4).quiet(0.1).feed(Heard(s.commands(Transcribe)[0].pause_t, "Actually..."))
    s.say(1.2)                                             # "... could you just help me make a plan?"
    assert not s.commands(ResumeAgent)
    assert s.commands(Discard) == [Discard("user_speech", pytest.approx(onset))]



def test_words_a_short_sound_could_not_hold_are_the_recognizer_inventing_them():
    s = speaking()
    s.say(0.3)
    s.quiet(0.1).feed(Heard(s.commands(Transcribe)[0].pause_t, "I'm gonna go through the")).quiet(0.5)
    assert s.commands(ResumeAgent) and not s.commands(Discard)


def test_words_the_recognizer_was_unsure_of_are_no_words():
    s = speaking()
    s.say(0.3)
    s.quiet(0.1).feed(Heard(s.commands(Transcribe)[0].pause_t, "Come on.", confidence=0.27)).quiet(0.5)
    assert s.commands(ResumeAgent) and not s.commands(Discard)
    sure = speaking()
    sure.say(0.3)
    sure.quiet(0.1).feed(Heard(sure.commands(Transcribe)[0].pause_t, "Come on.", confidence=0.9)).quiet(0.5)
    assert sure.commands(Discard) and not sure.commands(ResumeAgent)


def test_speech_over_the_agent_whose_words_could_not_be_recognized_is_an_interruption():
    s = speaking()
    onset = s.t
    s.say(1.2)                                             # "Can you help me feel better?"; the recognizer failed
    s.quiet(0.1).feed(Heard(s.commands(Transcribe)[0].pause_t, None)).quiet(0.5)
    assert s.commands(Discard) == [Discard("user_speech", pytest.approx(onset))] and not s.commands(ResumeAgent)


def test_a_sound_too_short_for_words_resumes_the_agent_without_asking_for_them():
    s = speaking()
    s.sound(0.13, 0.9, LOUD, voiced=True).quiet(0.4)
    assert s.commands(StopAgent) and s.commands(ResumeAgent) and not s.commands(Transcribe)


def test_a_real_interruption_ends_the_answer_and_becomes_the_next_turn():
    s = speaking()
    onset = s.t
    s.say(0.8)                                   # "Wait, sorry, actually never mind."
    pause = s.t
    s.quiet(0.3).feed(Heard(s.commands(Transcribe)[0].pause_t, "Wait, sorry."))
    assert s.commands(Discard) == [Discard("user_speech", pytest.approx(onset))]
    assert not s.commands(ResumeAgent)
    s.quiet(0.5)
    spec, commit = s.commands(Speculate)[-1], s.commands(Commit)[-1]
    assert spec.start == pytest.approx(onset) and commit.pause_t == pytest.approx(pause)


def test_going_on_just_after_the_answer_starts_continues_the_turn():
    s = speaking(heard_s=0.6)                              # "I studied a lot, but I keep thinking |" ... answered
    first = s.commands(Commit)[0].start
    onset = s.t
    s.say(1.2)                                             # "that I will forget everything."
    pause = s.t
    s.quiet(0.1).feed(Heard(s.commands(Transcribe)[0].pause_t, "that I will forget everything.")).quiet(0.2)
    assert s.commands(Discard) == [Discard("user_continued", pytest.approx(onset))]
    assert s.commands(Speculate)[-1] == Speculate(pytest.approx(first), pytest.approx(pause))



def test_a_new_sentence_just_after_the_answer_starts_is_a_new_turn():
    s = speaking(heard_s=0.6)
    onset = s.t
    s.say(1.2)
    s.quiet(0.1).feed(Heard(s.commands(Transcribe)[0].pause_t, "Wait, sorry, never mind.")).quiet(0.2)
    assert s.commands(Discard) == [Discard("user_speech", pytest.approx(onset))]
    assert s.commands(Speculate)[-1].start == pytest.approx(onset)


def test_a_long_interruption_needs_no_words_to_end_the_answer_and_starts_a_new_turn():
    s = speaking(heard_s=0.6)
    onset = s.t
    s.sound(0.2, 0.9, LOUD, True).feed(SpeechStart(onset)).sound(1.5, 0.9, LOUD, True)
    t, discard = s.first(Discard)
    assert discard == Discard("user_speech", pytest.approx(onset)) and t - onset == pytest.approx(1.5, abs=CHUNK + 1e-6)
    s.feed(SpeechPause(s.t)).quiet(0.2)                   # the words are unknown: the answer stays answered
    assert s.commands(Speculate)[-1].start == pytest.approx(onset)


def test_speech_still_going_when_the_agent_finishes_is_the_next_turn():
    s = speaking()
    onset = s.t
    s.sound(0.25, 0.9, SOFT, True).feed(SpeechStart(onset)).feed(AgentFinished(s.t))
    s.sound(0.5, 0.9, LOUD, True).feed(SpeechPause(s.t)).quiet(0.2)
    assert s.commands(Speculate)[-1].start == pytest.approx(onset)
