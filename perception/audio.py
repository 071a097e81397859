"""Small audio helpers: int16 <-> float conversion, resampling, WAV bytes (also used by the brain backends)."""
from __future__ import annotations

import io
import wave
from math import gcd

import numpy as np
from scipy.signal import resample_poly

_INT16_SCALE = 32768.0


def int16_to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 PCM -> float32 in [-1, 1)."""
    if pcm.dtype != np.int16:
        raise ValueError(f"expected int16 PCM, got dtype {pcm.dtype}")
    return pcm.astype(np.float32) / _INT16_SCALE


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> int16 PCM; values outside the range are clipped, not wrapped."""
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"expected float audio, got dtype {audio.dtype}")
    return np.clip(np.rint(audio * _INT16_SCALE), -32768, 32767).astype(np.int16)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling of mono float audio; returns float32 (the input itself when the rates match)."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    if audio.ndim != 1:
        raise ValueError(f"expected mono (1-D) audio, got shape {audio.shape}")
    if from_rate == to_rate:
        return audio.astype(np.float32, copy=False)
    g = gcd(from_rate, to_rate)
    return resample_poly(audio, to_rate // g, from_rate // g).astype(np.float32)


def wav_bytes(pcm: np.ndarray, sample_rate: int = 16000) -> bytes:
    """A 16-bit mono WAV file holding the samples (int16, or float in -1..1)."""
    if pcm.ndim != 1:
        raise ValueError(f"audio must be mono (1-D), got shape {pcm.shape}")
    data = pcm if pcm.dtype == np.int16 else float_to_int16(pcm)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(data.astype("<i2").tobytes())
    return buf.getvalue()
