"""Transcripts compared word by word: normalization and the word error rate."""
import pytest

from perception.wer import normalize_words, word_error_rate


def test_words_are_lower_case_without_punctuation_and_hyphens_split() -> None:
    assert normalize_words("Mm-hm, I don't KNOW!") == ["mm", "hm", "i", "don't", "know"]


def test_word_error_rate_counts_edits_over_reference_words() -> None:
    assert word_error_rate("Hello, World!", "hello world") == 0.0
    assert word_error_rate("the cat sat", "the bat sat down") == pytest.approx(2 / 3)
    assert word_error_rate("don't stop", "dont stop") == 0.5
    assert word_error_rate("", "") == 0.0 and word_error_rate("", "noise") == 1.0
