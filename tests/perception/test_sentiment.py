"""Word cues: VADER valence of a transcript."""
from __future__ import annotations

import pytest

from perception.sentiment import SentimentAnalyzer


@pytest.fixture(scope="module")
def analyzer() -> SentimentAnalyzer:
    return SentimentAnalyzer()


def test_positive_sentence_has_positive_valence(analyzer) -> None:
    cue = analyzer.analyze("I love this, it is wonderful and makes me so happy!", t=4.0)
    assert cue.valence > 0.5 and cue.positive > cue.negative
    assert cue.t == 4.0 and cue.text.startswith("I love")


def test_negative_sentence_has_negative_valence(analyzer) -> None:
    cue = analyzer.analyze("I feel terrible, everything went wrong and I am so sad.", t=1.0)
    assert cue.valence < -0.5 and cue.negative > cue.positive


def test_neutral_sentence_is_near_zero(analyzer) -> None:
    cue = analyzer.analyze("The meeting is on Tuesday at three in room four.", t=0.0)
    assert abs(cue.valence) < 0.1 and cue.neutral > 0.9


def test_empty_text_is_neutral(analyzer) -> None:
    cue = analyzer.analyze("", t=0.0)
    assert cue.valence == 0.0


def test_spoken_fillers_are_not_read_as_praise():
    # VADER alone scores this +0.65 ("pretty" and "honestly" count as positive words)
    cue = SentimentAnalyzer().analyze("Honestly, I'm feeling pretty stressed about my exam next week.", 0.0)
    assert cue.valence < -0.1


def test_what_happened_outweighs_how_it_is_worded(analyzer) -> None:
    cue = analyzer.analyze("I can't stop worrying about money.", 0.0)   # VADER alone: +0.44
    assert cue.valence < -0.4 and cue.appraisal.categories == ("fear",)
    news = analyzer.analyze("The doctor called about my results.", 0.0)  # VADER alone: 0.0
    assert news.valence < -0.4 and news.appraisal.evidence == ("doctor", "results")


def test_reassurance_is_not_good_news(analyzer) -> None:
    assert analyzer.analyze("I'm fine.", 0.0).valence == 0.0


def test_word_valence_combines_tone_and_events() -> None:
    from perception.sentiment import word_valence
    from perception.types import Appraisal

    assert word_valence(0.5, Appraisal()) == 0.5
    assert word_valence(0.2, Appraisal(categories=("minimizing",))) == 0.0
    assert word_valence(-0.3, Appraisal(valence=-0.7)) == -0.7
    assert -0.7 < word_valence(0.6, Appraisal(valence=-0.7)) < -0.4       # kind words soften sad news a little
