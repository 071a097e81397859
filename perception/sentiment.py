"""Word-level sentiment of a transcript: VADER valence and its positive/negative/neutral shares."""
from __future__ import annotations

import logging

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from perception.types import TextCue

logger = logging.getLogger(__name__)


class SentimentAnalyzer:
    """Loads the VADER lexicon once; ``analyze`` is cheap (well under a millisecond per sentence)."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def analyze(self, text: str, t: float) -> TextCue:
        scores = self._vader.polarity_scores(text)
        return TextCue(
            t=t, text=text, valence=scores["compound"], positive=scores["pos"], negative=scores["neg"], neutral=scores["neu"]
        )
