"""Synthetic non-speech sounds for rendered scenarios: the room-noise floor and a cough (float, 16 kHz).

Both are made from seeded noise, so every render of a script is bit-identical. Neither is a recording: the
floor is pinkish noise low-passed like a quiet room heard through a laptop microphone, the cough a short burst
of band-passed noise with a fast attack and an exponential decay. They are there to test that a turn-taker
does not take a non-speech sound, or the floor between words, for the user.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt

from floor import SAMPLE_RATE

NOISE_DBFS = -50.0
"""RMS level of the room-noise floor in dB re full scale (1.0); a quiet room through a desk microphone."""
NOISE_SEED = 20261129
NOISE_BAND_HZ = (40.0, 4000.0)
COUGH_S = 0.3
COUGH_BAND_HZ = (250.0, 3500.0)
COUGH_ATTACK_S = 0.008
COUGH_DECAY_S = 0.07


def dbfs(samples: np.ndarray) -> float:
    """RMS level of float samples in dB re full scale (1.0)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    return 20 * np.log10(rms) if rms > 0 else -np.inf


def room_noise(n: int, level_dbfs: float = NOISE_DBFS, seed: int = NOISE_SEED) -> np.ndarray:
    """``n`` samples of pinkish (1/f power) noise band-limited to NOISE_BAND_HZ, at ``level_dbfs`` RMS."""
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    low, high = NOISE_BAND_HZ
    shape = np.zeros_like(freqs)
    band = freqs >= low
    # 1/f power falling off steeply above `high`: a quiet room's hum and air, not hiss.
    shape[band] = 1 / np.sqrt(freqs[band]) / (1 + (freqs[band] / high) ** 4)
    noise = np.fft.irfft(spectrum * shape, n)
    return (noise * (10 ** (level_dbfs / 20) / np.sqrt(np.mean(noise ** 2)))).astype(np.float32)


def cough(seed: int, seconds: float = COUGH_S) -> np.ndarray:
    """A synthetic cough: band-passed noise, ``COUGH_ATTACK_S`` rise, ``COUGH_DECAY_S`` decay, peak 1.0."""
    n = round(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    sos = butter(2, COUGH_BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")
    burst = sosfilt(sos, np.random.default_rng(seed).standard_normal(n))
    envelope = np.minimum(t / COUGH_ATTACK_S, 1.0) * np.exp(-t / COUGH_DECAY_S)
    out = burst * envelope
    return (out / np.max(np.abs(out))).astype(np.float32)
