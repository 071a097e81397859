"""Speech's audio shaping: a gain that never clips, a duration-preserving pitch shift, trimmed padding."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from floor import float_to_int16, int16_to_float, resample


def apply_gain(float_audio: np.ndarray, volume: float) -> np.ndarray:
    """Scale by ``volume`` to int16, never past full scale: a loud style turns the level down rather than clip."""
    if volume <= 0:
        raise ValueError(f"volume must be positive, got {volume}")
    audio = np.asarray(float_audio, dtype=np.float64) * volume
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak > 0.999:
        audio = audio * (0.999 / peak)
    return float_to_int16(audio)


def _to_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.int16:
        return int16_to_float(x).astype(np.float64)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"audio must be int16 or float, got {x.dtype}")
    return x.astype(np.float64)


def _time_stretch(x: np.ndarray, factor: float, frame: int) -> np.ndarray:
    """WSOLA: length becomes ``factor`` × the input's, pitch unchanged."""
    hop_out = frame // 2
    hop_in = hop_out / factor
    tolerance = frame // 4
    window = np.hanning(frame)
    padded = np.concatenate([np.zeros(frame + tolerance), x, np.zeros(int(3 * hop_in) + 2 * frame + tolerance)])
    n_out = int(round(len(x) * factor))
    n_frames = n_out // hop_out + 2
    out = np.zeros(n_frames * hop_out + frame)
    norm = np.zeros_like(out)
    offset = frame + tolerance
    prev = offset
    for m in range(n_frames):
        nominal = offset + int(round(m * hop_in))
        if m == 0:
            pos = nominal
        else:
            # The frame that best continues what was just written, searched around the nominal position.
            natural = padded[prev + hop_out: prev + hop_out + frame]
            lo = max(nominal - tolerance, 0)
            region = padded[lo: nominal + tolerance + frame]
            scores = np.correlate(region, natural, mode="valid")
            pos = lo + int(np.argmax(scores))
        out[m * hop_out: m * hop_out + frame] += padded[pos: pos + frame] * window
        norm[m * hop_out: m * hop_out + frame] += window
        prev = pos
    out /= np.maximum(norm, 1e-3)
    return out[:n_out]


def shift_voice(samples: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Raise (positive) or lower (negative) the pitch by ``semitones`` and keep the duration about the same.

    Time-stretches by the pitch ratio, then resamples back to the original length; same dtype out as in.
    """
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"shift_voice expects mono 1-D audio, got shape {x.shape}")
    if not -12.0 <= semitones <= 12.0:
        raise ValueError(f"semitones must be within ±12, got {semitones}")
    if semitones == 0 or len(x) == 0:
        return x.copy()
    ratio = 2.0 ** (semitones / 12.0)
    frame = max(64, int(sr * 0.04))
    stretched = _time_stretch(_to_float(x), ratio, frame)
    # Playing the stretched audio ratio× faster multiplies every frequency by ratio: as if recorded at
    # ratio× the rate, resampled back down.
    step = Fraction(ratio).limit_denominator(1000)
    y = resample(stretched, step.numerator, step.denominator)
    return float_to_int16(y) if x.dtype == np.int16 else y.astype(x.dtype)


def trim_silence(samples: np.ndarray, sr: int, lead_ms: float = 30.0, tail_ms: float = 150.0,
                 threshold: float = 0.02) -> np.ndarray:
    """Cut the synthesizer's padding: it delays the first audible sound and stretches pauses between sentences.

    Keeps ``lead_ms`` before the first and ``tail_ms`` after the last sample above ``threshold`` × peak.
    """
    level = np.abs(samples.astype(np.float32))
    peak = float(level.max()) if level.size else 0.0
    if peak == 0.0:
        return samples[:0]
    loud = np.flatnonzero(level > threshold * peak)
    start = max(0, int(loud[0] - lead_ms * sr / 1000))
    end = min(len(samples), int(loud[-1] + 1 + tail_ms * sr / 1000))
    return samples[start:end]
