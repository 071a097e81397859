"""Voice prosody cues of one speech segment: loudness, pitch, speaking rate and arousal against the session baseline.

Per 40 ms frame (20 ms hop): RMS energy, and pitch by YIN (cumulative mean normalized
difference, computed for all frames and lags at once with FFTs) between ``pitch_min_hz`` and
``pitch_max_hz``. Energy and pitch use the active frames (within :data:`ACTIVE_RANGE_DB` of the
loudest one); a frame is voiced when its aperiodicity is below :data:`VOICING_THRESHOLD`.

Relative figures compare the segment with the mean of the previous ``baseline_segments``
segments of the session (the first segment is its own baseline, so its relative figures are 0):
``energy_rel`` in dB, ``pitch_rel`` in semitones, ``rate_rel`` as a fraction (0.2 = 20 % faster).

``arousal = clip(mean(energy_rel / 6 dB, pitch_rel / 3 st, rate_rel / 0.3), -1, 1)`` over the
figures the segment has: +6 dB louder, +3 semitones higher or 30 % faster each count as a full step.
A silent segment (no frame above :data:`SILENCE_DB`) has no pitch, arousal 0, and leaves the baseline alone.
"""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

from floor import SAMPLE_RATE, int16_to_float
from perception.settings import VoiceSettings
from perception.types import VoiceCue, Word

logger = logging.getLogger(__name__)

FRAME = int(0.040 * SAMPLE_RATE)
HOP = int(0.020 * SAMPLE_RATE)
VOICING_THRESHOLD = 0.3
"""A frame is voiced when its YIN aperiodicity at the chosen lag is below this."""
_YIN_DIP = 0.15
ACTIVE_RANGE_DB = 30.0
SILENCE_DB = -70.0
"""Frames quieter than this (dBFS) are silence, whatever the rest of the segment."""
_AROUSAL_STEPS = (6.0, 3.0, 0.3)


def _frames(x: np.ndarray) -> np.ndarray:
    if len(x) < FRAME:
        x = np.pad(x, (0, FRAME - len(x)))
    count = 1 + (len(x) - FRAME) // HOP
    return np.lib.stride_tricks.sliding_window_view(x, FRAME)[: count * HOP : HOP]


def _frame_power(x: np.ndarray, count: int) -> np.ndarray:
    squares = np.zeros(max(len(x), FRAME) + 1)
    np.cumsum(np.square(x, dtype=np.float64), out=squares[1 : len(x) + 1])
    squares[len(x) + 1 :] = squares[len(x)]
    starts = np.arange(count) * HOP
    return (squares[starts + FRAME] - squares[starts]) / FRAME


def _pitch(frames: np.ndarray, min_hz: float, max_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """YIN per frame: (f0 in Hz, aperiodicity 0..1; low means clearly periodic)."""
    lo = max(int(SAMPLE_RATE / max_hz), 2)
    # Lags are capped at half a frame so each lag is compared over enough samples (pitch >= 50 Hz).
    hi = min(int(np.ceil(SAMPLE_RATE / min_hz)), FRAME // 2)
    width = FRAME - hi - 1
    n_fft = next_fast_len(FRAME + width, real=True)
    # r[tau] = sum_j x[j] x[j + tau] over the first `width` samples, all lags at once.
    spectrum = rfft(frames, n_fft, axis=1)
    r = irfft(np.conj(rfft(frames[:, :width], n_fft, axis=1)) * spectrum, n_fft, axis=1)[:, : hi + 2]
    energy = np.zeros((len(frames), FRAME + 1))
    np.cumsum(np.square(frames, dtype=np.float64), axis=1, out=energy[:, 1:])
    lags = np.arange(hi + 2)
    diff = energy[:, [width]] + (energy[:, lags + width] - energy[:, lags]) - 2 * r
    cumulative = np.cumsum(diff[:, 1:], axis=1)
    cmndf = np.ones_like(diff)
    cmndf[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(cumulative, 1e-12)
    search = cmndf[:, lo : hi + 1]
    rows = np.arange(len(frames))
    below = search < _YIN_DIP
    # The first dip under the threshold (not the global minimum) avoids octave-down errors.
    best = np.where(below.any(axis=1), np.argmax(below, axis=1), np.argmin(search, axis=1))
    for _ in range(hi - lo):
        step = (best + 1 < search.shape[1]) & (search[rows, np.minimum(best + 1, search.shape[1] - 1)] < search[rows, best])
        if not step.any():
            break
        best = best + step
    centre = search[rows, best]
    left = search[rows, np.maximum(best - 1, 0)]
    right = search[rows, np.minimum(best + 1, search.shape[1] - 1)]
    denom = left - 2 * centre + right
    shift = np.where(denom > 1e-12, 0.5 * (left - right) / np.where(denom > 1e-12, denom, 1.0), 0.0)
    lag = lo + best + np.clip(shift, -0.5, 0.5)
    return SAMPLE_RATE / lag, np.clip(centre, 0.0, 1.0)


def frame_voicing(pcm: np.ndarray, min_hz: float = 70.0, max_hz: float = 400.0) -> tuple[float, bool]:
    """Level (dBFS) and voicing of the last 40 ms of ``pcm`` (int16, 16 kHz): is it periodic, like a voice?

    Cheap enough (~0.1 ms) to run on every 32 ms chunk; it tells speech over the agent from a cough or a knock.
    """
    x = int16_to_float(pcm[-FRAME:])
    level = float(10 * np.log10(max(float(np.mean(np.square(x, dtype=np.float64))), 1e-12)))
    if level <= SILENCE_DB:
        return level, False
    _, aperiodicity = _pitch(_frames(x)[-1:], min_hz, max_hz)
    return level, bool(aperiodicity[0] < VOICING_THRESHOLD)


class VoiceAnalyzer:
    """Prosody per segment; keeps the per-session running baseline (one analyzer per session)."""

    def __init__(self, settings: VoiceSettings) -> None:
        if settings.pitch_min_hz >= settings.pitch_max_hz:
            raise ValueError(
                f"voice.pitch_min_hz ({settings.pitch_min_hz}) must be below voice.pitch_max_hz ({settings.pitch_max_hz})"
            )
        self.settings = settings
        n = settings.baseline_segments
        self._energy: deque[float] = deque(maxlen=n)
        self._pitch: deque[float] = deque(maxlen=n)
        self._rate: deque[float] = deque(maxlen=n)

    def analyze(
        self, pcm: np.ndarray, start: float, end: float, words: Sequence[Word] = (), t: float | None = None
    ) -> VoiceCue:
        """``pcm``: the segment, int16 at 16 kHz; ``words``: its recognized words (for the rate); ``t`` defaults to ``end``."""
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise ValueError(f"analyze needs 1-D int16 PCM at 16 kHz, got dtype {pcm.dtype} shape {pcm.shape}")
        x = int16_to_float(pcm)
        frames = _frames(x)
        power = _frame_power(x, len(frames))
        db = 10 * np.log10(np.maximum(power, 1e-12))
        active = (db > SILENCE_DB) & (db > db.max() - ACTIVE_RANGE_DB)
        rate = self._rate_of(words)
        if not active.any():
            return VoiceCue(t=end if t is None else t, start=start, end=end, energy_db=float(db.max()),
                            pitch_median_hz=None, pitch_range_semitones=None, speaking_rate_wps=rate,
                            energy_rel=0.0, pitch_rel=0.0, rate_rel=self._relative_rate(rate), arousal=0.0)
        energy_db = float(10 * np.log10(power[active].mean()))
        f0, aperiodicity = _pitch(frames[active], self.settings.pitch_min_hz, self.settings.pitch_max_hz)
        voiced = f0[aperiodicity < VOICING_THRESHOLD]
        pitch = float(np.median(voiced)) if len(voiced) else None
        pitch_range = float(12 * np.log2(np.percentile(voiced, 90) / np.percentile(voiced, 10))) if len(voiced) else None

        energy_rel = energy_db - (float(np.mean(self._energy)) if self._energy else energy_db)
        pitch_rel = 0.0
        if pitch is not None and self._pitch:
            pitch_rel = float(12 * np.log2(pitch / np.mean(self._pitch)))
        rate_rel = self._relative_rate(rate)
        terms = [energy_rel / _AROUSAL_STEPS[0]]
        if pitch is not None:
            terms.append(pitch_rel / _AROUSAL_STEPS[1])
        if rate is not None:
            terms.append(rate_rel / _AROUSAL_STEPS[2])
        arousal = float(np.clip(np.mean(terms), -1.0, 1.0))

        self._energy.append(energy_db)
        if pitch is not None:
            self._pitch.append(pitch)
        if rate is not None:
            self._rate.append(rate)
        return VoiceCue(
            t=end if t is None else t, start=start, end=end, energy_db=energy_db, pitch_median_hz=pitch,
            pitch_range_semitones=pitch_range, speaking_rate_wps=rate, energy_rel=energy_rel,
            pitch_rel=pitch_rel, rate_rel=rate_rel, arousal=arousal,
        )

    def reset(self) -> None:
        """Forget the session baseline (a new session begins)."""
        self._energy.clear()
        self._pitch.clear()
        self._rate.clear()

    @staticmethod
    def _rate_of(words: Sequence[Word]) -> float | None:
        if not words:
            return None
        span = words[-1].end - words[0].start
        return len(words) / span if span > 0 else None

    def _relative_rate(self, rate: float | None) -> float:
        if rate is None or not self._rate:
            return 0.0
        return rate / float(np.mean(self._rate)) - 1.0
