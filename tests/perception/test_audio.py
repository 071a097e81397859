"""WAV bytes: 16-bit mono at the floor's rate, from int16 as given or from float scaled and clipped."""
from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from floor import SAMPLE_RATE
from perception.audio import wav_bytes


def read_wav(data: bytes) -> tuple[int, int, int, np.ndarray]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2")


def test_int16_samples_are_written_as_given_at_16k() -> None:
    pcm = np.array([-32768, -1, 0, 1, 32767], np.int16)
    channels, width, rate, samples = read_wav(wav_bytes(pcm))
    assert (channels, width, rate) == (1, 2, SAMPLE_RATE)
    np.testing.assert_array_equal(samples, pcm)


def test_float_samples_are_scaled_and_clipped_at_the_rate_asked_for() -> None:
    _, _, rate, samples = read_wav(wav_bytes(np.array([0.0, 0.5, -1.0, 3.0]), 24000))
    assert rate == 24000
    np.testing.assert_array_equal(samples, [0, 16384, -32768, 32767])


def test_stereo_is_refused_naming_its_shape() -> None:
    with pytest.raises(ValueError, match=r"mono.*\(10, 2\)"):
        wav_bytes(np.zeros((10, 2), np.int16))
