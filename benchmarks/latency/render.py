"""Render a scenario once to a 16 kHz mono WAV in a distinct user voice, with exact ground-truth speech times.

Each user turn is synthesized with hibari, shifted in pitch, resampled to 16 kHz and trimmed to where its speech
really is; a turn with hesitations is synthesized once as a whole sentence and cut into its fragments (see
:func:`agent.demo.synth.speak_turn`). Backchannels and false interruptions are synthesized like user lines at their own level,
coughs are synthetic (:mod:`benchmarks.latency.sounds`). Everything is placed at exact sample offsets over a
room-noise floor, so the ground truth (start and end of every utterance and overlap) is sample-accurate by
construction. Renders are cached by script hash.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from agent.demo.synth import Synth, speak_turn, trim, write_media
from benchmarks.latency.scenario import OVERLAP_KINDS, Scenario, ScenarioError, Step
from benchmarks.latency.sounds import NOISE_DBFS, cough, room_noise
from floor import INT16_SCALE, SAMPLE_RATE, float_to_int16, resample
from speech.transform import shift_voice

logger = logging.getLogger(__name__)

RENDER_VERSION = 3
USER_SEMITONES = -3.0
LEVEL = 0.7
"""Peak of every user turn (full scale 1.0); overlaps are set relative to it."""


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
class TrueOverlap:
    """A sound over the agent's answer to turn ``after_turn`` that is not a turn: kind is one of OVERLAP_KINDS."""
    kind: str
    start_s: float
    end_s: float
    text: str
    level_db: float
    after_turn: int


@dataclass(frozen=True)
class GroundTruth:
    scenario: str
    digest: str
    duration_s: float
    sample_rate: int
    turns: tuple[TrueTurn, ...]
    silences: tuple[tuple[float, float], ...] = ()
    overlaps: tuple[TrueOverlap, ...] = ()
    noise_dbfs: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        turns = tuple(TrueTurn(index=t["index"], start_s=t["start_s"], end_s=t["end_s"], text=t["text"],
                               segments=tuple(tuple(s) for s in t["segments"]), interrupt=t["interrupt"])
                      for t in data["turns"])
        return cls(scenario=data["scenario"], digest=data["digest"], duration_s=data["duration_s"],
                   sample_rate=data["sample_rate"], turns=turns,
                   silences=tuple(tuple(s) for s in data.get("silences", ())),
                   overlaps=tuple(TrueOverlap(**o) for o in data.get("overlaps", ())),
                   noise_dbfs=data.get("noise_dbfs"))


@dataclass(frozen=True)
class RenderedScenario:
    scenario: Scenario
    media: Path
    truth: GroundTruth


def hibari_user_voice(semitones: float = USER_SEMITONES) -> Synth:
    """The user's voice: hibari "heart", pitch-shifted so it is distinct from the agent's, at 16 kHz."""
    from hibari import Hibari

    tts = Hibari()

    def synth(text: str) -> np.ndarray:
        wav = shift_voice(np.asarray(tts(text, seed=0), dtype=np.float32), tts.sample_rate, semitones)
        return resample(wav, tts.sample_rate, SAMPLE_RATE)

    return synth


def _level(samples: np.ndarray, peak: float, level_db: float = 0.0) -> np.ndarray:
    """int16 with ``peak`` at LEVEL (every user line at the same level) shifted by ``level_db``."""
    return float_to_int16(samples * (LEVEL * 10 ** (level_db / 20) / peak))


def speech_level_db(samples: np.ndarray) -> float:
    """How loud a voice is where it sounds: the 75th percentile of its 32 ms frames' RMS, in dBFS.

    Peaks mislead: a hummed "mm-hm" at a line's peak is as loud as the line's vowels all through,
    where speech dips between words; this compares like with like.
    """
    frame = round(0.032 * SAMPLE_RATE)
    count = max(1, len(samples) // frame)
    x = np.asarray(samples[:count * frame], dtype=np.float64) / INT16_SCALE  # int16 levels, maybe widened
    rms = np.sqrt(np.mean(np.square(x.reshape(count, -1)), axis=1))
    return float(np.percentile(20 * np.log10(np.maximum(rms, 1e-9)), 75))


def _overlap_sound(step: Step, synth: Synth, line_level_db: float) -> np.ndarray:
    """A cough at a line's peak; spoken sounds ``level_db`` below (or above) the user's lines, by loudness."""
    if step.kind == "cough":
        sound = cough(seed=step.line)
        return _level(sound, float(np.max(np.abs(sound))), step.level_db)
    sound = trim(synth(step.text))
    at_peak = _level(sound, float(np.max(np.abs(sound))))
    gain_db = min(line_level_db + step.level_db - speech_level_db(at_peak), 20 * np.log10(1 / LEVEL))
    return _level(sound, float(np.max(np.abs(sound))), gain_db)


def render_samples(scenario: Scenario, synth: Synth,
                   noise_dbfs: float | None = NOISE_DBFS) -> tuple[np.ndarray, GroundTruth]:
    """Lay the script out on a timeline over the room-noise floor (``None``: digital silence); returns int16
    16 kHz samples and their ground truth."""
    pieces: list[tuple[int, np.ndarray]] = []
    turns: list[TrueTurn] = []
    overlaps: list[TrueOverlap] = []
    silences: list[tuple[float, float]] = []
    line_levels: list[float] = []  # how loud each user line came out (speech_level_db)
    cursor = last_turn_end = 0  # in samples
    interrupt = False
    steps = scenario.steps
    i = 0
    while i < len(steps):
        step = steps[i]
        if step.kind == "user":
            texts, gaps = [step.text], []
            while i + 2 < len(steps) and steps[i + 1].kind == "hesitate":
                gaps.append(steps[i + 1].seconds)
                texts.append(steps[i + 2].text)
                i += 2
            fragments = speak_turn(texts, synth)
            peak = max(float(np.max(np.abs(f))) for f in fragments)
            segments = []
            for k, fragment in enumerate(fragments):
                cursor += round(gaps[k - 1] * SAMPLE_RATE) if k else 0
                pieces.append((cursor, _level(fragment, peak)))
                line_levels.append(speech_level_db(pieces[-1][1]))
                segments.append((cursor / SAMPLE_RATE, (cursor + len(fragment)) / SAMPLE_RATE))
                cursor += len(fragment)
            turns.append(TrueTurn(len(turns), segments[0][0], segments[-1][1], " ".join(texts), tuple(segments),
                                  interrupt))
            last_turn_end, interrupt = cursor, False
        elif step.kind == "interrupt" or step.kind in OVERLAP_KINDS:
            target = last_turn_end + round((scenario.agent_latency + step.seconds) * SAMPLE_RATE)
            if target < cursor:
                raise ScenarioError(f"{scenario.path}:{step.line}: {step.kind} after {step.seconds:g}: the script is "
                                    "already past that time; remove the pause or the overlap before it")
            cursor = target
            if step.kind == "interrupt":
                interrupt = True
            else:
                sound = _overlap_sound(step, synth, float(np.median(line_levels)))
                pieces.append((cursor, sound))
                overlaps.append(TrueOverlap(step.kind, cursor / SAMPLE_RATE, (cursor + len(sound)) / SAMPLE_RATE,
                                            step.text, step.level_db, len(turns) - 1))
                cursor += len(sound)
        else:
            n = round(step.seconds * SAMPLE_RATE)
            if step.kind == "silence":
                silences.append((cursor / SAMPLE_RATE, (cursor + n) / SAMPLE_RATE))
            cursor += n
        i += 1
    mix = np.zeros(cursor, dtype=np.int32)
    for start, sound in pieces:
        mix[start:start + len(sound)] += sound
    if noise_dbfs is not None:
        mix += float_to_int16(room_noise(cursor, noise_dbfs))
    audio = np.clip(mix, -32768, 32767).astype(np.int16)
    truth = GroundTruth(scenario=scenario.name, digest=scenario.digest, duration_s=cursor / SAMPLE_RATE,
                        sample_rate=SAMPLE_RATE, turns=tuple(turns), silences=tuple(silences),
                        overlaps=tuple(overlaps), noise_dbfs=noise_dbfs)
    return audio, truth


def cache_key(scenario: Scenario) -> str:
    return f"{scenario.name}-{scenario.digest}-v{RENDER_VERSION}{USER_SEMITONES:+g}"


def camera_face() -> np.ndarray:
    """The face the camera shows in camera-on runs: a real photograph (scikit-image's astronaut), as BGR."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def render(scenario: Scenario, cache_dir: Path, synth: Synth | None = None, camera: bool = False) -> RenderedScenario:
    """The scenario's media and ground truth, rendered once and then read from ``cache_dir``.

    ``camera``: the companion's common case, the same audio (lossless PCM) beside a 640x480 video of a real face
    that drifts slightly in the frame, in a Matroska file; else a WAV.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = cache_key(scenario)
    wav, truth_path = cache_dir / f"{key}.wav", cache_dir / f"{key}.truth.json"
    if not (wav.exists() and truth_path.exists()):
        logger.info("rendering scenario %s", scenario.name)
        audio, truth = render_samples(scenario, synth or hibari_user_voice())
        tmp = wav.with_suffix(".tmp.wav")
        sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16")
        tmp.replace(wav)
        tmp_truth = truth_path.with_suffix(".tmp")
        tmp_truth.write_text(json.dumps(truth.to_json(), indent=2), encoding="utf-8")
        tmp_truth.replace(truth_path)
    truth = GroundTruth.from_json(json.loads(truth_path.read_text(encoding="utf-8")))
    if not camera:
        return RenderedScenario(scenario, wav, truth)
    video = cache_dir / f"{key}.camera.mkv"
    if not video.exists():
        audio, _ = sf.read(str(wav), dtype="int16")
        write_media(video, audio, camera_face())
    return RenderedScenario(scenario, video, truth)
