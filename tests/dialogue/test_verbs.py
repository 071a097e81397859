"""The small verb lexicon: verb forms are recognised, nouns are not, and past tenses are right."""
from __future__ import annotations

import pytest

from dialogue.verbs import is_base_verb, is_verb, past


@pytest.mark.parametrize("word", ["went", "hates", "worrying", "can't", "she's", "cried", "handed", "is", "forgiven"])
def test_verb_forms_are_verbs(word):
    assert is_verb(word)


@pytest.mark.parametrize("word", ["the", "mom", "sister", "back", "happy", "my", "results"])
def test_other_words_are_not(word):
    assert not is_verb(word)


@pytest.mark.parametrize("base, done", [("do", "did"), ("make", "made"), ("cry", "cried"), ("stop", "stopped"),
                                        ("ask", "asked"), ("move", "moved"), ("ruinate", None)])
def test_past_tense(base, done):
    assert past(base) == done and is_base_verb(base) == (done is not None)
