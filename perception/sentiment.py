"""Word-level sentiment of a transcript: VADER valence and its positive/negative/neutral shares."""
from __future__ import annotations

import functools
import logging

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from perception.types import TextCue

logger = logging.getLogger(__name__)

# Spoken filler VADER reads as praise: "honestly, I'm pretty stressed" scores +0.65 with them, -0.30 without.
_NOT_SENTIMENT = ("pretty", "honestly", "truly")


@functools.lru_cache(maxsize=1)
def vader() -> SentimentIntensityAnalyzer:
    """The VADER analyzer with its lexicon tuned for speech; loaded once per process (read-only afterwards)."""
    analyzer = SentimentIntensityAnalyzer()
    for word in _NOT_SENTIMENT:
        analyzer.lexicon.pop(word, None)
    return analyzer


class SentimentAnalyzer:
    """``analyze`` is cheap (well under a millisecond per sentence)."""

    def analyze(self, text: str, t: float) -> TextCue:
        scores = vader().polarity_scores(text)
        return TextCue(
            t=t, text=text, valence=scores["compound"], positive=scores["pos"], negative=scores["neg"], neutral=scores["neu"]
        )
