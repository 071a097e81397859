"""A stereo replay recording built with known offsets, and its ground truth (shared by the measurement tests)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.latency.render import GroundTruth, TrueTurn

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


@pytest.fixture(scope="session")
def constructed() -> Constructed:
    rng = np.random.default_rng(7)
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
    stereo = np.zeros((round(truth.duration_s * SR), 2), dtype=np.int16)
    for turn in turns:
        for a, b in turn.segments:
            stereo[round(a * SR):round(a * SR) + round((b - a) * SR), 0] = _noise(rng, b - a)
    for a, b in agent_spans:
        stereo[round(a * SR):round(a * SR) + round((b - a) * SR), 1] = _noise(rng, b - a)
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
