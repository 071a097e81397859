"""WAV bytes of 16 kHz mono audio (also used by the brain backends)."""
from __future__ import annotations

import io
import wave

import numpy as np

from floor import SAMPLE_RATE, float_to_int16


def wav_bytes(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
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
