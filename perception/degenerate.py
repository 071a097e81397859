"""Degenerate Whisper decodes: loops, over-compressible text, runaway length, silence where speech was heard.

Whisper decoding a window much shorter than its 30 s training window sometimes repeats the utterance
("Yes. Yes. Yes.") until the length bound stops it; these checks say when a decode must be retried on
the full window. A false alarm only costs the retry's time, never the text, so they err on the side of retrying.
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence

from perception.wer import normalize_words

LONG_BLOCK_WORDS = 3
"""A block of at least this many words said twice back to back is a loop; shorter blocks need three in a row
("Thank you. Thank you." is speech, "Yes. Yes. Yes." and "never mind. Never mind." are not)."""

NO_SPEECH_MAX = 0.6
"""Empty text with a no-speech probability below this means the decoder gave up on speech (faster-whisper's
no_speech_threshold); above it the audio is silence and empty text is the right answer."""
LOG_PROB_MIN = -0.5
"""Mean token log-probability below which a decode of likely silence is dropped. faster-whisper uses -1.0 on its
30 s window; a window sized to the audio makes Whisper surer of its hallucination (it says "you" to 2 s of
digital silence at -0.96 with a no-speech probability of 0.99), while speech on the test corpus never had a
no-speech probability above 0.4, so the bar is higher here."""


def is_silence(no_speech_prob: float, avg_logprob: float) -> bool:
    """Whisper's rule for a window with no speech: the no-speech token is likely and the text unsure."""
    return no_speech_prob > NO_SPEECH_MAX and avg_logprob < LOG_PROB_MIN


def repeated_block(words: Sequence[str]) -> tuple[int, int] | None:
    """(block length, copies) of the first back-to-back repetition of words that marks a loop, or None.

    Words are compared as given (pass them through :func:`perception.wer.normalize_words`, since a loop
    changes case and punctuation: "mind. Never mind."). For each block length ``p`` a run of ``L`` positions
    where ``words[i] == words[i + p]`` means ``1 + L // p`` copies of a ``p``-word block in a row: O(n²).
    """
    n = len(words)
    for p in range(1, n // 2 + 1):
        run = 0
        for i in range(n - p):
            run = run + 1 if words[i] == words[i + p] else 0
            copies = 1 + run // p
            if copies >= 3 or (copies >= 2 and p >= LONG_BLOCK_WORDS):
                return p, copies
    return None


def compression_ratio(text: str) -> float:
    """Bytes of ``text`` over bytes of its zlib compression (Whisper's loop measure; ~1 for short speech)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def degenerate_reason(text: str, *, hit_limit: bool, no_speech_prob: float, compression_ratio_max: float) -> str | None:
    """Why a decode of ``text`` must be retried on the full window, or None when it is sound.

    ``hit_limit``: the decoder stopped at the length bound, not at end-of-text.
    """
    if hit_limit:
        return "length limit"
    if not text.strip():
        return "empty" if no_speech_prob < NO_SPEECH_MAX else None
    block = repeated_block(normalize_words(text))
    if block is not None:
        return f"repetition ({block[1]} x {block[0]} words)"
    ratio = compression_ratio(text)
    if ratio > compression_ratio_max:
        return f"compression ratio {ratio:.2f}"
    return None
