"""Voice prosody: pitch of known tones, loudness, rate, and figures relative to the session baseline."""
from __future__ import annotations

import time

import numpy as np
import pytest

from floor import SAMPLE_RATE
from perception.prosody import VoiceAnalyzer
from perception.settings import VoiceSettings
from perception.types import Word


def harmonic(f0: float, seconds: float = 2.0, amplitude: float = 0.2, glide_semitones: float = 0.0) -> np.ndarray:
    """A voice-like tone: five harmonics with falling strength, optionally gliding up by ``glide_semitones``."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    freq = f0 * 2 ** (glide_semitones / 12 * t / seconds)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (x / np.abs(x).max() * amplitude * 32767).astype(np.int16)


def words_at(rate: float, seconds: float) -> list[Word]:
    n = int(rate * seconds)
    return [Word(f"w{i}", i / rate, (i + 0.8) / rate) for i in range(n)]


@pytest.mark.parametrize("f0", [90.0, 120.0, 220.0, 350.0])
def test_median_pitch_of_a_harmonic_tone(f0: float) -> None:
    cue = VoiceAnalyzer(VoiceSettings()).analyze(harmonic(f0), 0.0, 2.0)
    assert cue.pitch_median_hz == pytest.approx(f0, rel=0.03)
    assert cue.pitch_range_semitones < 0.5


def test_pitch_range_follows_a_glide() -> None:
    cue = VoiceAnalyzer(VoiceSettings()).analyze(harmonic(150.0, glide_semitones=6.0), 0.0, 2.0)
    assert cue.pitch_range_semitones == pytest.approx(6.0 * 0.8, abs=0.6), "10th-90th percentile of a 6 st glide"


def test_energy_is_rms_db_of_the_voiced_part() -> None:
    tone = harmonic(200.0, amplitude=0.5)
    padded = np.concatenate([np.zeros(SAMPLE_RATE, np.int16), tone])
    cue = VoiceAnalyzer(VoiceSettings()).analyze(padded, 0.0, 3.0)
    rms = np.sqrt(np.mean((tone / 32768.0) ** 2))
    assert cue.energy_db == pytest.approx(20 * np.log10(rms), abs=0.5), "leading silence does not dilute it"


def test_first_segment_is_its_own_baseline_then_louder_higher_faster_is_aroused() -> None:
    analyzer = VoiceAnalyzer(VoiceSettings())
    calm = analyzer.analyze(harmonic(150.0, amplitude=0.1), 0.0, 2.0, words_at(2.0, 2.0), t=2.1)
    assert (calm.energy_rel, calm.pitch_rel, calm.rate_rel, calm.arousal) == (0.0, 0.0, 0.0, 0.0)
    assert calm.t == 2.1 and calm.speaking_rate_wps == pytest.approx(2.0, rel=0.15)
    excited = analyzer.analyze(harmonic(200.0, amplitude=0.3), 5.0, 7.0, words_at(3.0, 2.0))
    assert excited.t == 7.0
    assert excited.energy_rel == pytest.approx(20 * np.log10(3), abs=0.5)
    assert excited.pitch_rel == pytest.approx(12 * np.log2(200 / 150), abs=0.2)
    assert excited.rate_rel > 0.3
    assert excited.arousal > calm.arousal + 0.5 and excited.arousal <= 1.0
    quieter = analyzer.analyze(harmonic(140.0, amplitude=0.05), 8.0, 10.0, words_at(1.5, 2.0))
    assert quieter.energy_rel < 0 and quieter.pitch_rel < 0 and quieter.arousal < 0


def test_baseline_is_the_mean_of_the_last_segments() -> None:
    analyzer = VoiceAnalyzer(VoiceSettings(baseline_segments=1))
    analyzer.analyze(harmonic(100.0), 0.0, 2.0)
    analyzer.analyze(harmonic(200.0), 2.0, 4.0)
    assert analyzer.analyze(harmonic(200.0), 4.0, 6.0).pitch_rel == pytest.approx(0.0, abs=0.1)


def test_silence_has_no_pitch_and_no_arousal() -> None:
    analyzer = VoiceAnalyzer(VoiceSettings())
    for pcm in (np.zeros(SAMPLE_RATE, np.int16), np.zeros(10, np.int16)):
        cue = analyzer.analyze(pcm, 0.0, 1.0)
        assert cue.pitch_median_hz is None and cue.pitch_range_semitones is None
        assert cue.arousal == 0.0 and cue.speaking_rate_wps is None
    noise = np.random.default_rng(0).normal(0, 2000, SAMPLE_RATE).astype(np.int16)
    assert analyzer.analyze(noise, 0.0, 1.0).pitch_median_hz is None, "noise is not voiced"


def test_speech_has_a_plausible_pitch(speak) -> None:
    cue = VoiceAnalyzer(VoiceSettings()).analyze(speak("weather"), 0.0, 3.2)
    assert 120.0 < cue.pitch_median_hz < 300.0 and 2.0 < cue.pitch_range_semitones < 15.0


def test_bad_settings_and_audio_are_named() -> None:
    with pytest.raises(ValueError, match="pitch_min_hz"):
        VoiceAnalyzer(VoiceSettings(pitch_min_hz=300.0, pitch_max_hz=200.0))
    with pytest.raises(ValueError, match="int16"):
        VoiceAnalyzer(VoiceSettings()).analyze(np.zeros(100, np.float64), 0.0, 1.0)


def test_ten_seconds_analyze_fast() -> None:
    analyzer = VoiceAnalyzer(VoiceSettings())
    pcm = np.tile(harmonic(180.0, seconds=1.0), 10)
    analyzer.analyze(pcm, 0.0, 10.0)
    start = time.perf_counter()
    analyzer.analyze(pcm, 0.0, 10.0)
    elapsed_ms = (time.perf_counter() - start) * 1e3
    assert elapsed_ms < 100.0, f"{elapsed_ms:.1f} ms for 10 s"
