"""Acoustic end of turn: Smart Turn v3.2 (Pipecat's BSD-2-Clause model) scores whether the user's turn sounds finished.

The ONNX ships in the ``pipecat-ai`` wheel; ``make install`` unpacks that one file into the model cache
(``perception.model_files``), so pipecat and its dependencies are never installed. Input: Whisper log-mel
features (80 x 800) of the turn's last 8 s, zero-padded at the front and scaled to zero mean and unit
variance as Pipecat does; output: the probability that the turn is complete (> 0.5 = complete). On
a pause inside an unfinished clause it scores near 0; finished sentences mostly, not always, score
high, so the turn-taking policy fuses it with the transcript and a silence fallback.

Features are computed whole on every call: they took ~4 ms for the 8 s window on an idle core (11-30 ms on
the loaded two-core test machine) against ~45 ms (~110 ms loaded) for the model itself, so computing them
incrementally would save a tenth of the call at most, not worth its complexity.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from faster_whisper.feature_extractor import FeatureExtractor

from floor import SAMPLE_RATE, int16_to_float
from perception.model_files import SMART_TURN, model_file
from perception.settings import EndOfTurnSettings

logger = logging.getLogger(__name__)

PACKAGE = SMART_TURN.project
BUNDLED_NAME = "smart-turn-v3.2-cpu.onnx"
WINDOW_S = 8
N_MELS = 80
FRAMES = 800
_NORM_EPS = 1e-7
"""Variance floor of the waveform normalisation (transformers' and Pipecat's value)."""


def bundled_model_path() -> Path:
    """The Smart Turn v3.2 ONNX that ``make install`` unpacked from the pipecat-ai wheel."""
    return model_file(SMART_TURN, BUNDLED_NAME)


def resolve_model(name: str) -> Path:
    """``"bundled"`` -> the file unpacked from pipecat-ai; otherwise an existing path to a Smart Turn v3 ONNX file."""
    if name == "bundled":
        return bundled_model_path()
    path = Path(name).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Smart Turn model not found: {path}")
    return path


def _describe(args: list[ort.NodeArg]) -> str:
    return ", ".join(f"{a.name} {a.type} {list(a.shape)}" for a in args) or "none"


def check_io(session: ort.InferenceSession, path: Path) -> None:
    """One-line error unless the model takes one float [batch, 80, 800] input and gives a [batch, 1] output."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    ok = (len(inputs) == 1 and inputs[0].type == "tensor(float)" and len(inputs[0].shape) == 3
          and list(inputs[0].shape[1:]) == [N_MELS, FRAMES]
          and len(outputs) >= 1 and len(outputs[0].shape) == 2 and outputs[0].shape[1] == 1)
    if not ok:
        raise ValueError(f"{path} is not a Smart Turn v3 model (package {PACKAGE}): expected input float "
                         f"[batch, {N_MELS}, {FRAMES}] and output [batch, 1], got inputs {_describe(inputs)}; "
                         f"outputs {_describe(outputs)}")


class SmartTurn:
    """Smart Turn v3.2 on onnxruntime; ``score`` is a blocking call (~45 ms on an idle core): run it in its own
    one-thread lane so it neither waits behind ASR nor competes with it for threads."""

    def __init__(self, settings: EndOfTurnSettings) -> None:
        self.settings = settings
        self.path = resolve_model(settings.model)
        self.name = f"smart-turn:{self.path.name}"
        started = time.perf_counter()
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for unreadable or invalid files
            message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise RuntimeError(f"cannot load Smart Turn model {self.path} (package {PACKAGE}): {message}") from e
        check_io(self._session, self.path)
        self._input = self._session.get_inputs()[0].name
        self._features = FeatureExtractor(feature_size=N_MELS, chunk_length=WINDOW_S)
        self.load_seconds = time.perf_counter() - started
        logger.info("loaded %s in %.2f s", self.name, self.load_seconds)

    def features(self, pcm: np.ndarray) -> np.ndarray:
        """Log-mel [80, 800] of the last 8 s of ``pcm``, zero-padded in front, normalised as Pipecat does
        (the padded window scaled to zero mean and unit variance)."""
        window = WINDOW_S * SAMPLE_RATE
        audio = int16_to_float(pcm[-window:])
        audio = np.pad(audio, (window - len(audio), 0))
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + _NORM_EPS)
        return self._features(audio, padding=0)[:, :FRAMES]

    def score(self, pcm: np.ndarray) -> float:
        """Probability (0..1) that the turn in ``pcm`` (1-D int16 at 16 kHz, the turn up to now) is complete."""
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise ValueError(f"Smart Turn needs 1-D int16 PCM at 16 kHz, got dtype {pcm.dtype} shape {pcm.shape}")
        features = self.features(pcm)[None].astype(np.float32, copy=False)
        return float(self._session.run(None, {self._input: features})[0][0, 0])

    def warm_up(self) -> None:
        """One call, so the first real pause does not pay for onnxruntime's lazy initialisation."""
        self.score(np.zeros(SAMPLE_RATE, np.int16))
