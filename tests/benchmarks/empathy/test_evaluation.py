"""The empathy evaluation on its report half meets the targets; the replay carries the conversation over."""
from __future__ import annotations

import time

import asyncio

from agent.config import Config
from benchmarks.empathy.cases import Case, Turn, load_cases, select
from benchmarks.empathy.report import TARGET_MATCH, summarize
from benchmarks.empathy.runner import CHEERFUL_PHRASES, MATCHING, TurnResult, face_cue
from benchmarks.empathy.runner import run_case as run_with
from dialogue.cue_brain import CueBrain


def run_case(case: Case, config: Config) -> tuple[TurnResult, ...]:
    """The case answered by a fresh cue brain (as the evaluation gives each case)."""
    return asyncio.run(run_with(case, config, CueBrain(config.brain, config.policy)))


def test_the_report_half_meets_the_targets_quickly():
    start = time.perf_counter()
    runs = [(case, run_case(case, Config())) for case in select(load_cases(), "report")]
    summary = summarize("report", runs)
    assert time.perf_counter() - start < 1.0
    assert summary["cheerful_to_negative"] == 0
    assert summary["valence_match"] >= TARGET_MATCH and summary["targets_met"]
    assert summary["negative_turns"] >= 30 and summary["scored_turns"] >= 60


def test_the_tuning_half_meets_them_too():
    summary = summarize("tune", [(case, run_case(case, Config())) for case in select(load_cases(), "tune")])
    assert summary["cheerful_to_negative"] == 0 and summary["valence_match"] >= TARGET_MATCH


def test_sad_news_told_with_a_smile_is_read_as_masking_and_carries_into_the_next_turn():
    case = Case("c", "tune", "grief", (Turn("My dad passed away last month.", "smile", expect="negative"),
                                       Turn("Anyway, I went to the gym today.", "smile", expect="negative")))
    first, second = run_case(case, Config())
    assert first.masking and "likely masking" in first.reason and first.passed
    assert "earlier: negative (passed away, 1 turn ago)" in second.reason and second.passed
    assert not any(p in second.reply.lower() for p in CHEERFUL_PHRASES)


def test_a_cheerful_reply_to_negative_content_fails_with_its_reason():
    from benchmarks.empathy.runner import score
    from perception.types import EmotionState

    turn = Turn("I failed.", "smile", expect="negative")
    result = score(turn, Case("c", "tune", "t", (turn,)), "That's wonderful news!", "happy",
                   EmotionState(0.0, 0.5, 0.0, "happy", 0.5), "c", 0)
    assert not result.passed and result.cheerful
    assert result.why == ("emotion happy is not negative; cheerful reply to negative content; "
                          "says 'wonderful news', \"that's wonderful\"")


MANAGER = Turn("My manager created a size of my report.", "neutral", expect="negative", unsure=("created a size",))
GARBLED = Turn("The bet sad their was nothing.", "sad", expect="negative", unsure=("the bet sad their",))


def test_a_misheard_word_said_back_fails_with_its_reason_and_short_words_do_not_count():
    from benchmarks.empathy.runner import score
    from perception.types import EmotionState

    state, case = EmotionState(0.0, -0.5, 0.0, "sad", 0.5), Case("c", "tune", "t", (MANAGER,))
    parrot = score(MANAGER, case, "So your manager created a size of your report. How are you?", "concerned", state,
                   "c", 0)
    assert not parrot.passed and parrot.parroted == ("created", "size")
    assert parrot.why == "says back misheard 'created', 'size'"
    assert score(MANAGER, case, "That sounds like a lot. How are you holding up?", "calm", state, "c", 0).passed


def test_a_mostly_misheard_turn_must_be_asked_again_with_a_question():
    from benchmarks.empathy.runner import score
    from perception.types import EmotionState

    state, case = EmotionState(0.0, -0.5, 0.0, "sad", 0.5), Case("c", "tune", "t", (GARBLED,))
    missed = score(GARBLED, case, "I'm so sorry. How are you holding up?", "concerned", state, "c", 0)
    assert not missed.passed and missed.missed_ask and missed.why == "does not ask to hear it again"
    assert not score(GARBLED, case, "Sorry, I didn't catch that.", "concerned", state, "c", 0).passed
    assert score(GARBLED, case, "Sorry, I didn't catch that. Could you say it again?", "concerned", state, "c", 0).passed


def test_the_replay_gives_misheard_words_a_low_probability_and_the_cue_brain_does_not_repeat_them():
    from benchmarks.empathy.runner import SURE_PROBABILITY, UNSURE_PROBABILITY, heard_words

    words = heard_words(MANAGER, 1.0, 3.0)
    sure, unsure = SURE_PROBABILITY, UNSURE_PROBABILITY
    assert [w.probability for w in words] == [sure, sure, unsure, unsure, unsure, sure, sure, sure]
    assert words[0].start == 1.0 and abs(words[-1].end - 3.0) < 1e-9
    (result,) = run_case(Case("c", "tune", "t", (MANAGER,)), Config())
    assert not result.parroted and "size" not in result.reply and result.reply.endswith("?")
    (asked,) = run_case(Case("c", "tune", "t", (GARBLED,)), Config())
    assert asked.passed and asked.reply.endswith("?")


def test_the_valence_mapping_is_explicit_and_cheer_never_matches_negative():
    assert not ({"happy", "excited"} & MATCHING["negative"]) and "concerned" in MATCHING["negative"]
    assert {"happy", "warm"} <= MATCHING["positive"]


def test_face_tracks_look_like_the_face_analysers_output():
    smile, sad, none = face_cue("smile", 1.0), face_cue("sad", 1.0), face_cue("none", 1.0)
    assert smile.smiling and smile.expression == "happiness" and smile.valence > 0.5
    assert sad.expression == "sadness" and sad.valence < -0.3 and not sad.smiling
    assert not none.face_present and none.valence is None
