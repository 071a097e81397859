"""The floor below every stage: the sample rate, the one int16/float conversion, the one resampler, the one-line error.

Perception, dialogue and speech must not import each other (each is usable alone), yet
all of them handle 16 kHz audio and report failures in one line; these facts live here,
once, below all three. Where files are cached between runs is the same kind of fact: ``floor.cache``.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

SAMPLE_RATE = 16000
"""Every sample the runtime moves between stages is 16 kHz mono (the recognizers', VAD's and turn models' rate)."""
INT16_SCALE = 32768.0
"""int16 full scale: -32768 is -1.0; +1.0 clips to 32767."""


def int16_to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 PCM -> float32 in [-1, 1)."""
    if pcm.dtype != np.int16:
        raise ValueError(f"expected int16 PCM, got dtype {pcm.dtype}")
    return pcm.astype(np.float32) / INT16_SCALE


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> int16 PCM; values outside the range are clipped, not wrapped."""
    audio = np.asarray(audio)
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"expected float audio, got dtype {audio.dtype}")
    return np.clip(np.rint(audio * INT16_SCALE), -32768, 32767).astype(np.int16)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling of mono audio, int16 or float; the result has the input's dtype (int16 clipped)."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"expected mono (1-D) audio, got shape {audio.shape}")
    if audio.dtype != np.int16 and not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"expected int16 or float audio, got dtype {audio.dtype}")
    if from_rate == to_rate or not len(audio):
        return audio.copy()
    ratio = Fraction(to_rate, from_rate)
    if audio.dtype == np.int16:
        return float_to_int16(resample_poly(int16_to_float(audio), ratio.numerator, ratio.denominator))
    return resample_poly(audio, ratio.numerator, ratio.denominator).astype(audio.dtype)


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` with its whitespace collapsed to single spaces, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(str(text).split())
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def error_line(exc: BaseException, *, typed: bool = False) -> str:
    """An exception as one line: its message, with its type named where the message alone would not say what
    went wrong (an empty message, or a type like KeyError whose message is only the key).

    ``typed`` names the type always: for logs and failure reasons, where the reader did not see what raised.
    """
    text = one_line(str(exc))
    if not typed and isinstance(exc, (OSError, ValueError, RuntimeError, ImportError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
