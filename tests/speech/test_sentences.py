"""SentenceSplitter: sentences come out as soon as they are complete, whatever the pieces the text arrives in."""
from __future__ import annotations

import random

import pytest

from speech.sentences import SentenceSplitter


def whole(text: str, **kw: int) -> list[str]:
    s = SentenceSplitter(**kw)
    return s.push(text) + s.flush()


def char_by_char(text: str, **kw: int) -> list[str]:
    s = SentenceSplitter(**kw)
    out: list[str] = []
    for c in text:
        out += s.push(c)
    return out + s.flush()


def word_tokens(text: str) -> list[str]:
    """LLM-like tokens: each word carries its leading space."""
    tokens: list[str] = []
    for i, word in enumerate(text.split(" ")):
        tokens.append(word if i == 0 else " " + word)
    return tokens


CASES = {
    "plain": ("Hello there. How are you? I'm fine!", ["Hello there.", "How are you?", "I'm fine!"]),
    "titles": ("Mr. Smith met Dr. Jones today. Ms. Lee came too.", ["Mr. Smith met Dr. Jones today.", "Ms. Lee came too."]),
    "latin": ("Bring fruit, e.g. apples, i.e. something sweet. Thanks.",
              ["Bring fruit, e.g. apples, i.e. something sweet.", "Thanks."]),
    "etc_mid": ("We bought pens, paper etc. and then went home. Done.",
                ["We bought pens, paper etc. and then went home.", "Done."]),
    "etc_end": ("We bought pens, paper, etc. Then we left.", ["We bought pens, paper, etc.", "Then we left."]),
    "country_mid": ("The U.S. economy grew. Good.", ["The U.S. economy grew.", "Good."]),
    "country_end": ("She moved to the U.S. It was far.", ["She moved to the U.S.", "It was far."]),
    "decimal": ("It costs 3.5 dollars. Pi is 3.14159 roughly.", ["It costs 3.5 dollars.", "Pi is 3.14159 roughly."]),
    "ellipsis_inside": ("I was thinking... maybe we could go. Or… not.", ["I was thinking... maybe we could go.", "Or… not."]),
    "ellipsis_end": ("Hmm... What now?", ["Hmm...", "What now?"]),
    "initials": ("J. K. Rowling wrote it. J.R.R. Tolkien too.", ["J. K. Rowling wrote it.", "J.R.R. Tolkien too."]),
    "quotes": ('He said "Stop!" Then he left. (Really.) Yes.', ['He said "Stop!"', "Then he left.", "(Really.)", "Yes."]),
    "newline": ("First line\nSecond line\n\n  Third line", ["First line", "Second line", "Third line"]),
    "unicode_ellipsis_run": ("Wait?! Why… Okay.", ["Wait?!", "Why…", "Okay."]),
    "list": ("Steps:\n1. Open the door.\n2. Walk in. I have 2. Then go.",
             ["Steps:", "1. Open the door.", "2. Walk in.", "I have 2.", "Then go."]),
    "whitespace": ("   Lots   of \t space   here.   ", ["Lots of space here."]),
    "no_end": ("no punctuation at all", ["no punctuation at all"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_cases_split_as_a_reader_would(name: str) -> None:
    text, expected = CASES[name]
    assert whole(text) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_token_by_token_gives_the_same_sentences_as_whole_text(name: str) -> None:
    text, expected = CASES[name]
    assert char_by_char(text) == expected
    s = SentenceSplitter()
    out: list[str] = []
    for token in word_tokens(text):
        out += s.push(token)
    assert out + s.flush() == expected


def test_a_sentence_comes_out_on_the_push_that_completes_it() -> None:
    s = SentenceSplitter()
    assert s.push("Hello") == []
    assert s.push(" there") == []
    assert s.push(".") == []  # could still be "there.5" or an abbreviation: undecided
    assert s.push(" How") == ["Hello there."]
    assert s.push(" are you?\n") == ["How are you?"]
    assert s.push("Fine") == []
    assert s.flush() == ["Fine"]
    assert s.flush() == []


def test_abbreviation_waits_for_the_next_word_before_deciding() -> None:
    s = SentenceSplitter()
    assert s.push("We moved to the U.S. ") == []
    assert s.push("it") == []
    assert s.push(" was fine. ") == ["We moved to the U.S. it was fine."]


def test_a_long_run_is_cut_at_a_clause_mark_after_max_words() -> None:
    words = " ".join(f"w{i}" for i in range(25))
    text = f"short, clause first {words}, and the rest; of it goes on - without a full stop"
    out = whole(text, max_words=20)
    assert out == [f"short, clause first {words},", "and the rest; of it goes on - without a full stop"]
    assert char_by_char(text, max_words=20) == out


def test_no_text_is_lost_or_duplicated() -> None:
    text = ("  Dr. Who said: \"Run!\" and ran... Then the U.S. team, e.g. Bob, left at 3.30 p.m. Really?\n\n"
            "Yes. " + ", ".join(["word " * 6] * 6) + " end")
    for out in (whole(text), char_by_char(text)):
        assert all(s == s.strip() and s for s in out)
        assert " ".join(out) == " ".join(text.split())


def test_max_words_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_words"):
        SentenceSplitter(max_words=0)


@pytest.mark.parametrize("seed", range(5))
def test_random_piece_boundaries_never_change_the_result(seed: int) -> None:
    text = " ".join(t for t, _ in CASES.values())
    rng = random.Random(seed)
    s = SentenceSplitter()
    out: list[str] = []
    i = 0
    while i < len(text):
        n = rng.randint(1, 12)
        out += s.push(text[i: i + n])
        i += n
    assert out + s.flush() == whole(text)


def test_the_first_piece_may_end_at_a_clause_mark_and_later_ones_wait_for_max_words():
    s = SentenceSplitter(first_max_words=4)
    assert s.push("Oh, that must have been so hard, and I can only imagine, really, how it felt. ") == [
        "Oh, that must have been so hard,", "and I can only imagine, really, how it felt."]


def test_a_first_piece_with_no_mark_is_cut_after_twice_the_first_words():
    s = SentenceSplitter(first_max_words=3)
    assert s.push("we went to the lake and then we walked back home slowly") == ["we went to the lake and"]
    assert s.flush() == ["then we walked back home slowly"]
