"""Audio helpers: int16 <-> float conversion and polyphase resampling."""
from __future__ import annotations

import numpy as np
import pytest

from perception.audio import float_to_int16, int16_to_float, resample


def test_int16_float_round_trip_and_clipping() -> None:
    pcm = np.array([-32768, -1, 0, 1, 32767], np.int16)
    x = int16_to_float(pcm)
    assert x.dtype == np.float32 and x[0] == -1.0 and x[-1] < 1.0
    np.testing.assert_array_equal(float_to_int16(x), pcm)
    np.testing.assert_array_equal(float_to_int16(np.array([1.5, -2.0], np.float32)), [32767, -32768])


def test_conversions_reject_the_wrong_dtype() -> None:
    with pytest.raises(ValueError, match="float64"):
        int16_to_float(np.zeros(3))
    with pytest.raises(ValueError, match="int16"):
        float_to_int16(np.zeros(3, np.int16))


def test_resample_keeps_a_tone_and_changes_length() -> None:
    t = np.arange(24000) / 24000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = resample(tone, 24000, 16000)
    assert out.dtype == np.float32 and len(out) == 16000
    peak_hz = np.argmax(np.abs(np.fft.rfft(out))) * 16000 / len(out)
    assert peak_hz == pytest.approx(440, abs=2)
    assert np.sqrt(np.mean(out[1000:-1000] ** 2)) == pytest.approx(np.sqrt(0.5), rel=0.02)
    assert resample(tone, 16000, 16000) is tone


def test_resample_rejects_bad_rates_and_stereo() -> None:
    with pytest.raises(ValueError, match="0 -> 16000"):
        resample(np.zeros(10, np.float32), 0, 16000)
    with pytest.raises(ValueError, match=r"\(10, 2\)"):
        resample(np.zeros((10, 2), np.float32), 48000, 16000)
