"""What the user's words say about the floor: trailing off, a finished sentence, carrying on, or nothing real."""
from __future__ import annotations

import re

_TRAILING_INCOMPLETE = re.compile(
    # Words that (almost) never end a sentence. Not prepositions: "hold on", "what are you looking for?" are finished.
    r"(\b(and|but|or|because|cause|um+|uh+|er+|erm|the|a|an|of|if|than|i|my|your|our|their|you know|i mean|"
    r"kind of|sort of)|,|-|\.\.\.|…)\W*$", re.I)
_WORD = re.compile(r"[a-z']+(?:-[a-z']+)*")
_CONTINUING = re.compile(r"(and|but|or|so|because|that|which|who|then|um+|uh+)\b", re.I)
_FALSE_START_WORDS = 2
"""A trailing-off overlap this short ("I...", "so, um") is a false start the user gave up."""
MAX_WORDS_PER_S = 5.0
"""Faster than anyone speaks (conversational English runs 2-3 words a second)."""


def trails_off(text: str) -> bool:
    """The words end mid-clause: on a conjunction, a filler, an article, a comma or an ellipsis."""
    return bool(_TRAILING_INCOMPLETE.search(text.strip().rstrip(".?!").rstrip()) or text.strip().endswith(("...", "…")))


def is_complete(text: str) -> bool:
    """A finished sentence: final punctuation, and the words before it do not trail off."""
    text = text.strip()
    return bool(text) and text[-1] in ".?!" and not trails_off(text)


def no_real_words(text: str, speech_s: float, backchannels: tuple[str, ...]) -> bool:
    """Speech over the agent that says nothing to answer: backchannels and fillers, a false start that
    trails off ("I...", "so, um"), or words ``speech_s`` of sound could not hold."""
    false_start = trails_off(text) and len(_WORD.findall(text.lower())) <= _FALSE_START_WORDS
    return only_backchannel(text, backchannels) or false_start or not could_say(text, speech_s)


def continues(text: str) -> bool:
    """Words that carry on a sentence rather than start one: the recognizer wrote them in lower case ("that I will
    forget everything") or they open with a conjunction or a relative word."""
    text = text.strip()
    return bool(text) and (text[0].islower() or bool(_CONTINUING.match(text)))


def could_say(text: str, speech_s: float) -> bool:
    """Whether ``speech_s`` seconds of speech can hold these words; Whisper invents whole phrases for a short "hmm"."""
    return len(_WORD.findall(text.lower())) <= MAX_WORDS_PER_S * speech_s + 1


def only_backchannel(text: str, words: tuple[str, ...]) -> bool:
    """Nothing but backchannels and fillers ("yeah", "mm-hm, right", "uh") or no words at all."""
    said = " ".join(_WORD.findall(text.lower()))
    for phrase in sorted(words, key=len, reverse=True):
        said = re.sub(rf"\b{re.escape(phrase)}\b", " ", said)
    return not said.strip()
