"""The turn-taking rules, fact by fact on a virtual clock: when a turn ends, what overlaps do, when the agent speaks."""
import dataclasses
import logging
import random

import pytest

from dialogue.settings import PolicySettings
from dialogue.turns import (AgentFinished, AgentStarted, Backchannel, CheckIn, Commit, Discard, EndOfTurnScore,
                            FaceSignal, Heard, OverlapIgnored, ResumeAgent, Sound, Speculate, SpeechEnd, SpeechPause,
                            SpeechResume, SpeechStart, StopAgent, StopRequest, Tick, Transcribe, TurnTaker, continues, could_say, is_complete, no_real_words,
                            only_backchannel, trails_off)
from perception.settings import VadSettings

CHUNK = 0.032
LOUD, SOFT = -20.0, -32.0


def taker(**policy):
    return TurnTaker(PolicySettings(**policy), VadSettings(), speculate_after_ms=96)


class Script:
    """Feeds facts to a TurnTaker with a virtual clock; collects commands with the time they came out."""

    def __init__(self, tt=None):
        self.tt = tt or taker()
        self.t = 0.0
        self.out = []

    def feed(self, *facts):
        for fact in facts:
            self.out += [(self.t, c) for c in self.tt.feed(fact)]
        return self

    def sound(self, seconds, p=0.0, level=-70.0, voiced=False):
        """Chunks of audio up to ``t + seconds``: ``p`` is the VAD's speech probability."""
        end = self.t + seconds
        while self.t < end - 1e-9:
            self.feed(Sound(self.t, CHUNK, p, level, voiced))
            self.t += CHUNK
        return self

    def say(self, seconds, level=LOUD, voiced=True):
        """User speech, with the VAD's start (confirmed after 200 ms, dated at the onset) and its pause."""
        onset = self.t
        self.sound(0.2, 0.9, level, voiced)
        self.feed(SpeechStart(onset) if not self.tt.user_speaking and not self._paused() else SpeechResume(onset))
        self.sound(seconds - 0.2, 0.9, level, voiced)
        self.feed(SpeechPause(self.t))
        return self

    def _paused(self):
        return self.tt._pause_t is not None and self.tt.agent_state in ("idle", "preparing")

    def quiet(self, seconds):
        return self.sound(seconds, 0.05)

    def commands(self, kind):
        return [c for _, c in self.out if isinstance(c, kind)]

    def first(self, kind):
        return next((t, c) for t, c in self.out if isinstance(c, kind))


def answer_heard(s, text):
    """The runtime transcribed the pause the TurnTaker speculated on."""
    spec = s.commands(Speculate)[-1]
    return s.feed(Heard(spec.pause_t, text))


# ---- the words decide how long a pause must be ----------------------------------------------------------------------
@pytest.mark.parametrize("text, complete, trailing", [
    ("I had a long day at work.", True, False),
    ("Can you help me?", True, False),
    ("I was thinking about the", False, True),
    ("I went home and.", False, True),
    ("Well, um.", False, True),
    ("It is just that my mother is getting older,", False, True),
    ("because...", False, True),
    ("I went to the park", False, False),
    ("", False, False),
    ("Hold on.", True, False),
    ("What are you looking for?", True, False),
    ("My manager cancelled the project I spent six months on.", True, False),
    ("I keep thinking of", False, True),
])
def test_words_that_trail_off_are_not_a_finished_sentence(text, complete, trailing):
    assert is_complete(text) is complete
    assert trails_off(text) is trailing


@pytest.mark.parametrize("text, expected", [
    ("Yeah.", True), ("Mm-hm, right.", True), ("Uh", True), ("", True), ("Okay okay.", True), ("I see.", True),
    ("Wait, stop.", False), ("Yeah but no.", False), ("Hold on.", False),
])
def test_backchannels_and_fillers_hold_no_real_words(text, expected):
    assert only_backchannel(text, PolicySettings().backchannel_words) is expected


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


# ---- sound over the agent -----------------------------------------------------------------------------------------
def speaking(heard_s=2.0, **policy):
    """An agent answering for ``heard_s``: the user spoke (setting their level), the turn ended, the answer is audible."""
    s = Script(taker(**policy)).say(1.0)
    s.quiet(0.2)
    answer_heard(s, "Tell me something.").quiet(0.6)
    s.feed(AgentStarted(s.t))
    s.quiet(heard_s)
    return s


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


@pytest.mark.parametrize("text, speech_s, nothing", [
    ("Mm-hm, yeah.", 0.5, True), ("I...", 0.3, True), ("So, um", 0.5, True), ("I'm gonna go through the", 0.3, True),
    ("Wait.", 0.3, False), ("Hold on, I", 0.6, False), ("Actually, could you help me?", 1.2, False),
])
def test_what_counts_as_no_real_words_over_the_agent(text, speech_s, nothing):
    assert no_real_words(text, speech_s, PolicySettings().backchannel_words) is nothing


def test_words_a_short_sound_could_not_hold_are_the_recognizer_inventing_them():
    assert could_say("Wait, stop.", 0.5) and not could_say("I'm gonna go through the", 0.3)
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


@pytest.mark.parametrize("text, goes_on", [
    ("that I will forget everything.", True), ("and I worry about her.", True), ("Because it hurts.", True),
    ("Wait, sorry, actually never mind.", False), ("Hold on.", False), ("", False),
])
def test_words_that_carry_on_a_sentence(text, goes_on):
    assert continues(text) is goes_on


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
    with caplog.at_level(logging.WARNING, logger="dialogue.turns"):
        assert tt.feed(fact) == []
    assert len(caplog.records) == 1 and "ignored" in caplog.text
    assert tt.agent_state == "idle"


def test_time_running_backwards_is_ignored(caplog):
    tt = taker()
    tt.feed(Tick(5.0))
    with caplog.at_level(logging.WARNING, logger="dialogue.turns"):
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
    pause = tt._pause_t if tt._pause_t is not None and rng.random() < 0.7 else round(jitter, 1)
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


def test_facts_are_frozen_and_commands_compare_by_value():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SpeechStart(1.0).t = 2.0  # type: ignore[misc]
    assert Commit(1.0, 2.0) == Commit(1.0, 2.0, early=False)
    assert SpeechEnd(1.0) != SpeechPause(1.0)
