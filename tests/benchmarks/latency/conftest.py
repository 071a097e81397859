"""Stereo replay recordings built with known offsets, and their ground truth (shared by the measurement tests)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.latency.render import GroundTruth, TrueOverlap, TrueTurn

SR = 16000


@dataclass(frozen=True)
class Constructed:
    truth: GroundTruth
    stereo: np.ndarray  # (n, 2) int16: user, agent
    v2v_ms: tuple[float | None, ...]
    barge_in_stop_ms: tuple[float | None, ...]
    cut_in_turns: tuple[int, ...]
    reports: list[dict]

    def write(self, path: Path) -> Path:
        sf.write(str(path), self.stereo, SR, subtype="PCM_16")
        return path


def _noise(rng: np.random.Generator, seconds: float) -> np.ndarray:
    return np.clip(rng.normal(0, 3000, round(seconds * SR)), -32000, 32000).astype(np.int16)


def _stereo(truth: GroundTruth, user: list[tuple[float, float]], agent: list[tuple[float, float]],
            seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    stereo = np.zeros((round(truth.duration_s * SR), 2), dtype=np.int16)
    for channel, spans in ((0, user), (1, agent)):
        for a, b in spans:
            stereo[round(a * SR):round(a * SR) + round((b - a) * SR), channel] = _noise(rng, b - a)
    return stereo


@pytest.fixture(scope="session")
def constructed() -> Constructed:
    turns = (
        TrueTurn(0, 1.0, 2.0, "answered after 800 ms", ((1.0, 2.0),)),
        TrueTurn(1, 5.0, 6.0, "hesitates; the agent cuts in during the gap", ((5.0, 5.4), (5.8, 6.0))),
        TrueTurn(2, 8.0, 8.5, "barge-in, agent stops after 200 ms", ((8.0, 8.5),), interrupt=True),
        TrueTurn(3, 11.0, 11.5, "unanswered", ((11.0, 11.5),)),
        TrueTurn(4, 13.0, 13.5, "answered after 500 ms", ((13.0, 13.5),)),
        TrueTurn(5, 15.0, 15.4, "barge-in, agent stops only after 600 ms", ((15.0, 15.4),), interrupt=True),
    )
    truth = GroundTruth("constructed", "0" * 16, 20.0, SR, turns, silences=((17.5, 19.5),))
    agent_spans = [(2.8, 4.0), (5.5, 5.7), (7.1, 8.2), (9.1, 10.0), (14.0, 15.6), (16.4, 17.0), (18.0, 18.5)]
    stereo = _stereo(truth, [seg for turn in turns for seg in turn.segments], agent_spans, 7)
    stereo[round(3.2 * SR):round(3.35 * SR), 1] = 0  # a pause between sentences: still one answer
    reports = [
        {"user_start_s": 1.1, "user_end_s": 2.4, "user_text": "x", "agent_text": "y",
         "latency_ms": {"endpoint_wait": 400.0, "asr": 150.0, "brain_first_token": 20.0,
                        "brain_first_sentence": 60.0, "tts_first_audio": 15.0, "voice_to_voice": 790.0}},
        {"user_start_s": 13.0, "user_end_s": 13.8, "latency_ms": {"endpoint_wait": 300.0, "asr": None}},
    ]
    return Constructed(truth=truth, stereo=stereo, v2v_ms=(800.0, 1100.0, 600.0, None, 500.0, 1000.0),
                       barge_in_stop_ms=(None, None, 200.0, None, None, 600.0), cut_in_turns=(1, 5),
                       reports=reports)


@dataclass(frozen=True)
class WithOverlaps:
    """A recording with sounds over the agent, the runtime's turns.json and trace, and what each should measure."""
    truth: GroundTruth
    stereo: np.ndarray
    reports: list[dict]
    trace: list[dict]

    def write(self, path: Path) -> Path:
        sf.write(str(path), self.stereo, SR, subtype="PCM_16")
        return path


@pytest.fixture(scope="session")
def with_overlaps() -> WithOverlaps:
    turns = (
        TrueTurn(0, 1.0, 2.0, "I need to tell you something important.", ((1.0, 2.0),)),
        TrueTurn(1, 7.0, 9.0, "So I was thinking and then I just left.", ((7.0, 7.6), (8.4, 9.0))),
        TrueTurn(2, 14.0, 15.0, "Nobody noticed at all.", ((14.0, 15.0),)),
    )
    overlaps = (
        TrueOverlap("backchannel", 3.2, 3.45, "yeah", -9.0, 0),        # agent goes on (a 0.2 s sentence gap is no stop)
        TrueOverlap("cough", 4.5, 4.8, "", 0.0, 0),                     # agent stops 150 ms in, for good
        TrueOverlap("false_interrupt", 10.5, 10.8, "hmm", 0.0, 1),     # stops 100 ms in, resumes 0.8 s after it
        TrueOverlap("false_interrupt", 16.0, 16.3, "oh", 0.0, 2),      # stops, then answers "oh" as a turn
        TrueOverlap("backchannel", 19.0, 19.3, "right", -9.0, 2),      # the agent was not speaking
    )
    truth = GroundTruth("overlaps", "1" * 16, 20.0, SR, turns, overlaps=overlaps, noise_dbfs=-50.0)
    agent = [(2.6, 3.5), (3.7, 4.65), (9.6, 10.6), (11.6, 13.0), (15.5, 16.1), (17.0, 18.0)]
    user = [seg for turn in turns for seg in turn.segments] + [(o.start_s, o.end_s) for o in overlaps]
    reports = [
        {"user_start_s": 1.0, "user_end_s": 2.05, "user_text": "I need to tell you something important"},
        {"user_start_s": 8.4, "user_end_s": 9.05, "user_text": "then I just left"},   # the first fragment is lost
        {"user_start_s": 16.0, "user_end_s": 16.9, "user_text": "Oh."},               # turn 2 has no report
    ]
    trace = [
        {"type": "overlap_ignored", "t": 3.5, "onset": 3.22, "end": 3.45, "kind": "backchannel", "text": "yeah"},
        {"type": "barge_in", "t": 4.65, "onset": 4.53, "stopped_at": 4.65, "reason": "user_speech", "stop_ms": 120},
        {"type": "barge_in", "t": 10.6, "onset": 10.52, "stopped_at": 10.6, "reason": "user_speech", "stop_ms": 80},
        {"type": "agent_resumed", "t": 11.6, "onset": 10.52, "stopped_at": 10.6, "resumed_at": 11.6},
        {"type": "barge_in", "t": 16.1, "onset": 16.02, "stopped_at": 16.1, "reason": "user_speech", "stop_ms": 80},
    ]
    return WithOverlaps(truth, _stereo(truth, user, agent, 11), reports, trace)
