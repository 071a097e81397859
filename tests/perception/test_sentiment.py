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
