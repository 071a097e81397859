"""Degenerate-decode detection on crafted texts: loops, compressible text, runaway length, empty output."""
from __future__ import annotations

import pytest

from perception.wer import normalize_words
from perception.degenerate import compression_ratio, degenerate_reason, is_silence, repeated_block

SPEECH = ("Yesterday I finally finished reading the book my sister gave me. It was about a family that moves to "
          "a small village near the sea, and how they slowly learn to live with their new neighbours.")


@pytest.mark.parametrize("text, block", [
    ("Yes. Yes. Yes.", (1, 3)),
    ("okay okay okay okay okay", (1, 3)),  # found as soon as it counts as a loop
    ("about moving back home. About moving back home.", (4, 2)),
    ("Wait, sorry, actually never mind. Actually never mind.", (3, 2)),
    ("No, not really. No, not really. No", (3, 2)),
    ("It is just that my mother is getting older. It is just that my mother is getting older.", (9, 2)),
])
def test_loops_are_found_whatever_their_case_and_punctuation(text: str, block: tuple[int, int]) -> None:
    assert repeated_block(normalize_words(text)) == block


@pytest.mark.parametrize("text", [
    SPEECH,
    "Thank you. Thank you.",  # a short block said twice is speech
    "I'm sorry, I'm sorry.",
    "the cat and the dog and the bird",  # repeats that are not back to back
    "",
])
def test_ordinary_speech_is_not_a_loop(text: str) -> None:
    assert repeated_block(normalize_words(text)) is None


def test_compression_ratio_is_high_only_for_repetitive_text() -> None:
    assert compression_ratio("") == 0.0
    assert compression_ratio("The weather was lovely this morning.") < 1.2
    assert 1.2 < compression_ratio(SPEECH) < 2.0
    assert compression_ratio("okay " * 13) > 2.4


def test_reasons_in_order_of_evidence() -> None:
    sound = dict(hit_limit=False, no_speech_prob=0.1, compression_ratio_max=2.4)
    assert degenerate_reason(SPEECH, **sound) is None
    assert degenerate_reason(SPEECH, **{**sound, "hit_limit": True}) == "length limit"
    assert degenerate_reason("Yes. Yes. Yes.", **sound) == "repetition (3 x 1 words)"
    assert degenerate_reason(SPEECH, **{**sound, "compression_ratio_max": 1.2}).startswith("compression ratio 1.")


def test_empty_text_is_degenerate_only_when_the_model_heard_speech() -> None:
    assert degenerate_reason("  ", hit_limit=False, no_speech_prob=0.05, compression_ratio_max=2.4) == "empty"
    assert degenerate_reason("", hit_limit=False, no_speech_prob=0.9, compression_ratio_max=2.4) is None


def test_silence_is_a_likely_no_speech_token_over_unsure_text() -> None:
    assert is_silence(0.99, -0.96)  # Whisper's "you" on two seconds of digital silence
    assert not is_silence(0.8, -0.3) and not is_silence(0.2, -1.3)
