"""Speech's audio shaping: apply_gain never clips, shift_voice keeps the duration, trim_silence cuts padding."""
from __future__ import annotations

import numpy as np
import pytest

from floor import SAMPLE_RATE as SR, float_to_int16, resample
from speech.hibari_tts import HibariTts
from speech.settings import TtsSettings
from speech.transform import apply_gain, shift_voice
from speech.types import Style


def tone(freq: float, seconds: float = 1.5, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_frequency(x: np.ndarray, sr: int = SR) -> float:
    x = np.asarray(x, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    return float(np.fft.rfftfreq(8 * len(x), 1 / sr)[np.argmax(spectrum)])


def test_apply_gain_never_clips() -> None:
    x = tone(300, 0.1, amp=0.8)
    loud = apply_gain(x, 2.0)
    assert loud.dtype == np.int16
    assert 32000 < np.abs(loud).max() <= 32767
    assert np.abs(apply_gain(x, 0.5)).max() == pytest.approx(0.4 * 32767, rel=0.01)
    with pytest.raises(ValueError, match="volume"):
        apply_gain(x, 0.0)


@pytest.mark.parametrize("semitones", [-4.0, 3.0, -12.0, 7.0])
def test_shift_voice_moves_pitch_by_the_asked_semitones(semitones: float) -> None:
    x = tone(220)
    y = shift_voice(x, SR, semitones)
    assert y.dtype == x.dtype
    assert len(y) == pytest.approx(len(x), rel=0.05)
    core = y[SR // 8: -SR // 8]
    assert peak_frequency(core) == pytest.approx(220 * 2 ** (semitones / 12), rel=0.05)


def test_shift_voice_on_int16_speech_like_audio_stays_int16_and_audible() -> None:
    x = float_to_int16(tone(150) + tone(300, amp=0.2) + tone(450, amp=0.1))
    y = shift_voice(x, SR, -4)
    assert y.dtype == np.int16
    assert len(y) == pytest.approx(len(x), rel=0.05)
    assert np.abs(y.astype(np.float64)).mean() > 0.5 * np.abs(x.astype(np.float64)).mean()
    assert peak_frequency(y[2000:-2000]) == pytest.approx(150 * 2 ** (-4 / 12), rel=0.05)


def median_pitch(x: np.ndarray, sr: int = SR) -> float:
    """Median autocorrelation pitch over loud 40 ms frames (70-400 Hz)."""
    x = x.astype(np.float64)
    pitches = []
    for i in range(0, len(x) - 640, 320):
        f = x[i: i + 640] - x[i: i + 640].mean()
        if np.sqrt(np.mean(f ** 2)) < 0.05 * np.abs(x).max():
            continue
        ac = np.correlate(f, f, "full")[639:]
        lag = sr // 400 + int(np.argmax(ac[sr // 400: sr // 70]))
        if ac[lag] > 0.5 * ac[0]:
            pitches.append(sr / lag)
    return float(np.median(pitches))


def test_shift_voice_makes_the_synthetic_user_sound_lower_than_the_agent() -> None:
    tts = HibariTts(TtsSettings())
    agent = resample(tts.synthesize("Could you tell me what time the museum opens tomorrow?", Style()), 24000, SR)
    user = shift_voice(agent, SR, -4)
    assert len(user) == pytest.approx(len(agent), rel=0.05)
    assert median_pitch(user) / median_pitch(agent) == pytest.approx(2 ** (-4 / 12), rel=0.05)


def test_shift_voice_zero_is_identity_and_range_is_checked() -> None:
    x = tone(220, 0.2)
    assert np.array_equal(shift_voice(x, SR, 0), x)
    with pytest.raises(ValueError, match="semitones"):
        shift_voice(x, SR, 13)


def test_trim_silence_keeps_a_short_margin_around_the_sound():
    from speech.transform import trim_silence

    sr = 24000
    x = np.zeros(sr * 2, np.int16)
    x[sr // 2: sr] = 8000                      # sound from 0.5 s to 1.0 s, padded with silence
    y = trim_silence(x, sr, lead_ms=30, tail_ms=150)
    assert len(y) == int(0.5 * sr) + int(0.03 * sr) + int(0.15 * sr)
    assert (y[: int(0.03 * sr)] == 0).all() and y[int(0.03 * sr)] == 8000
    assert len(trim_silence(np.zeros(100, np.int16), sr)) == 0
