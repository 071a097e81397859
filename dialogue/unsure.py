"""What the recognizer was unsure of in a transcript: the unsure words, their share, and whether a phrase repeats one.

Whisper gives every word a probability; a misheard word ("criticized" heard as "created
a size") scores low. A listener does not say back what it may have misheard: a reply
that would repeat an unsure word is not used, and an utterance mostly unsure is asked
for again.
"""
from __future__ import annotations

import re

from dialogue.reflection import shift_pronouns
from perception.types import Transcript

_TOKEN = re.compile(r"[\w']+")


def _tokens(text: str) -> list[str]:
    return [t.strip("'") for t in _TOKEN.findall(text.lower().replace("\u2019", "'")) if t.strip("'")]


def unsure_words(transcript: Transcript | None, below: float) -> tuple[str, ...]:
    """The words of ``transcript`` recognised only with a probability under ``below``, in order, lower case; a word
    also heard surely elsewhere in it ("a", "my") is left out, so a sure clause that has it can still be said back."""
    if transcript is None:
        return ()
    sure = {t for w in transcript.words if w.probability >= below for t in _tokens(w.text)}
    unsure = (t for w in transcript.words if w.probability < below for t in _tokens(w.text))
    return tuple(dict.fromkeys(t for t in unsure if t not in sure))


def unsure_share(transcript: Transcript | None, below: float) -> float:
    """The share of the transcript's words recognised with a probability under ``below`` (0 without word scores)."""
    words = transcript.words if transcript is not None else ()
    return sum(w.probability < below for w in words) / len(words) if words else 0.0


def repeats(phrase: str, unsure: tuple[str, ...]) -> bool:
    """Whether saying ``phrase`` back would repeat an unsure word, as heard or shifted ("my" → "your")."""
    if not unsure:
        return False
    heard = set(unsure) | {t for word in unsure for t in _tokens(shift_pronouns(word))}
    return any(t in heard for t in _tokens(phrase))
