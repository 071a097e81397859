"""Render a scenario once to a 16 kHz mono WAV in a distinct user voice, with exact ground-truth speech times.

Each ``user:`` line is synthesized with hibari, shifted in pitch, resampled to 16 kHz and trimmed to
where its speech really is; the trimmed samples are placed at exact sample offsets, so the ground truth
(start, end of every utterance) is sample-accurate by construction. Renders are cached by script hash.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from benchmarks.latency.scenario import Scenario

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
RENDER_VERSION = 1
USER_SEMITONES = -3.0
TRIM_FRACTION = 0.01
"""Speech starts/ends where |sample| first/last reaches this fraction of the utterance's peak."""

Synth = Callable[[str], np.ndarray]
"""Text -> float32 mono speech at 16 kHz (leading/trailing silence allowed; it is trimmed)."""


@dataclass(frozen=True)
class TrueTurn:
    """One user turn as really rendered; ``segments`` are its utterances (several when it hesitates)."""
    index: int
    start_s: float
    end_s: float
    text: str
    segments: tuple[tuple[float, float], ...]
    interrupt: bool = False


@dataclass(frozen=True)
class GroundTruth:
    scenario: str
    digest: str
    duration_s: float
    sample_rate: int
    turns: tuple[TrueTurn, ...]
    silences: tuple[tuple[float, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        turns = tuple(TrueTurn(index=t["index"], start_s=t["start_s"], end_s=t["end_s"], text=t["text"],
                               segments=tuple(tuple(s) for s in t["segments"]), interrupt=t["interrupt"])
                      for t in data["turns"])
        return cls(scenario=data["scenario"], digest=data["digest"], duration_s=data["duration_s"],
                   sample_rate=data["sample_rate"], turns=turns,
                   silences=tuple(tuple(s) for s in data.get("silences", ())))


@dataclass(frozen=True)
class RenderedScenario:
    scenario: Scenario
    media: Path
    truth: GroundTruth


def _resample_shift(samples: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Tape-style pitch shift (tempo changes with it): stretch by 2^(-s/12) and keep the sample rate."""
    ratio = Fraction(2 ** (-semitones / 12)).limit_denominator(200)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def _shift_voice() -> tuple[Callable[[np.ndarray, int, float], np.ndarray], str]:
    try:
        from speech.transform import shift_voice
    except ImportError:
        return _resample_shift, "resample"
    return shift_voice, "speech.transform"


def hibari_user_voice(semitones: float = USER_SEMITONES) -> Synth:
    """The user's voice: hibari "heart", pitch-shifted so it is distinct from the agent's, at 16 kHz."""
    from hibari import Hibari

    tts = Hibari()
    shift, _ = _shift_voice()

    def synth(text: str) -> np.ndarray:
        wav = np.asarray(tts(text, seed=0), dtype=np.float32)
        wav = shift(wav, tts.sample_rate, semitones)
        ratio = Fraction(SAMPLE_RATE, tts.sample_rate)
        return resample_poly(wav, ratio.numerator, ratio.denominator).astype(np.float32)

    return synth


def trim(samples: np.ndarray) -> np.ndarray:
    """The span from the first to the last sample reaching TRIM_FRACTION of the peak."""
    mag = np.abs(samples)
    peak = float(mag.max()) if len(mag) else 0.0
    if peak <= 0.0:
        raise ValueError("synthesized utterance is silent")
    loud = np.flatnonzero(mag >= peak * TRIM_FRACTION)
    return samples[loud[0]:loud[-1] + 1]


def _to_int16(samples: np.ndarray) -> np.ndarray:
    peak = float(np.abs(samples).max())
    gain = 0.7 / peak if peak > 0 else 1.0  # normalize every utterance to the same level
    return np.clip(np.round(samples * gain * 32767), -32767, 32767).astype(np.int16)


def render_samples(scenario: Scenario, synth: Synth) -> tuple[np.ndarray, GroundTruth]:
    """Lay the script out on a timeline; returns int16 16 kHz samples and their ground truth."""
    pieces: list[tuple[int, np.ndarray]] = []
    turns: list[TrueTurn] = []
    silences: list[tuple[float, float]] = []
    cursor = 0  # in samples
    continuing = False
    interrupt = False
    last_turn_end = 0
    for step in scenario.steps:
        if step.kind == "user":
            speech = _to_int16(trim(synth(step.text)))
            start, end = cursor, cursor + len(speech)
            pieces.append((start, speech))
            segment = (start / SAMPLE_RATE, end / SAMPLE_RATE)
            if continuing:
                prev = turns[-1]
                turns[-1] = TrueTurn(prev.index, prev.start_s, segment[1], f"{prev.text} {step.text}",
                                     prev.segments + (segment,), prev.interrupt)
            else:
                turns.append(TrueTurn(len(turns), segment[0], segment[1], step.text, (segment,), interrupt))
            cursor = last_turn_end = end
            continuing = interrupt = False
        elif step.kind == "interrupt":
            target = last_turn_end + round((scenario.agent_latency + step.seconds) * SAMPLE_RATE)
            if target < cursor:
                raise ValueError(f"{scenario.path}:{step.line}: interrupt after {step.seconds}: the script is "
                                 "already past that time; remove the pause before it")
            cursor, interrupt = target, True
        else:
            n = round(step.seconds * SAMPLE_RATE)
            if step.kind == "silence":
                silences.append((cursor / SAMPLE_RATE, (cursor + n) / SAMPLE_RATE))
            cursor += n
            continuing = step.kind == "hesitate"
    audio = np.zeros(cursor, dtype=np.int16)
    for start, speech in pieces:
        audio[start:start + len(speech)] = speech
    truth = GroundTruth(scenario=scenario.name, digest=scenario.digest, duration_s=cursor / SAMPLE_RATE,
                        sample_rate=SAMPLE_RATE, turns=tuple(turns), silences=tuple(silences))
    return audio, truth


def cache_key(scenario: Scenario) -> str:
    _, how = _shift_voice()
    return f"{scenario.name}-{scenario.digest}-v{RENDER_VERSION}-{how}{USER_SEMITONES:+g}"


def render(scenario: Scenario, cache_dir: Path, synth: Synth | None = None) -> RenderedScenario:
    """The scenario's WAV and ground truth, rendered once and then read from ``cache_dir``."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = cache_key(scenario)
    media, truth_path = cache_dir / f"{key}.wav", cache_dir / f"{key}.truth.json"
    if media.exists() and truth_path.exists():
        truth = GroundTruth.from_json(json.loads(truth_path.read_text(encoding="utf-8")))
        return RenderedScenario(scenario, media, truth)
    logger.info("rendering scenario %s", scenario.name)
    audio, truth = render_samples(scenario, synth or hibari_user_voice())
    tmp = media.with_suffix(".tmp.wav")
    sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16")
    tmp.replace(media)
    truth_path.write_text(json.dumps(truth.to_json(), indent=2), encoding="utf-8")
    return RenderedScenario(scenario, media, truth)
