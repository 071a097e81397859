"""Face detection (OpenCV's bundled Haar cascade, or a YuNet-style ONNX model by path) and main-face tracking."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from perception.settings import FaceSettings
from perception.types import FaceBox

logger = logging.getLogger(__name__)


class FaceDetector(Protocol):
    """Boxes in pixels of the BGR image given, best first."""

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        ...


def bundled_cascade(name: str) -> cv2.CascadeClassifier:
    """A Haar cascade shipped inside opencv-python-headless (< 5; OpenCV 5 removed them)."""
    data = getattr(cv2, "data", None)
    if data is None or not hasattr(cv2, "CascadeClassifier"):
        raise RuntimeError("this OpenCV has no bundled Haar cascades (OpenCV 5 removed them): "
                           "install opencv-python-headless<5")
    path = Path(data.haarcascades) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"{path}: Haar cascade missing or unreadable (install opencv-python-headless<5)")
    return cascade


class HaarFaceDetector:
    """Frontal faces on a downscaled gray image; fast and coarse."""

    def __init__(self, settings: FaceSettings) -> None:
        self.s = settings
        self.work_width = settings.detect_width
        self._cascade = bundled_cascade("haarcascade_frontalface_default.xml")

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        h, w = bgr.shape[:2]
        scale = min(1.0, self.work_width / w)
        small = cv2.resize(bgr, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else bgr
        gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        side = max(12, int(min(gray.shape[:2]) * self.s.min_size_ratio))
        found = self._cascade.detectMultiScale(gray, scaleFactor=1.15, minNeighbors=5, minSize=(side, side))
        boxes = [FaceBox(x / scale, y / scale, fw / scale, fh / scale, 1.0) for x, y, fw, fh in found]
        return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


YUNET_OUTPUTS = tuple(f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in (8, 16, 32))


class OnnxFaceDetector:
    """A YuNet-style detector: input [1,3,H,W] BGR float; outputs cls/obj/bbox/kps per stride 8, 16, 32."""

    def __init__(self, settings: FaceSettings) -> None:
        import onnxruntime as ort

        path = Path(settings.onnx_path)
        if not settings.onnx_path or not path.is_file():
            raise FileNotFoundError(f"face.onnx_path: {settings.onnx_path or '(empty)'}: no such ONNX model file")
        try:
            self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several unrelated types for unreadable models
            raise ValueError(f"{path}: not a loadable ONNX model ({exc})") from None
        inputs = self._session.get_inputs()
        outputs = {o.name for o in self._session.get_outputs()}
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or not set(YUNET_OUTPUTS) <= outputs:
            got = ", ".join(f"{i.name}{list(i.shape)}" for i in inputs)
            raise ValueError(f"{path}: expected a YuNet-style face detector with one input [1,3,H,W] and outputs "
                             f"{', '.join(YUNET_OUTPUTS)}; got inputs {got} and outputs {', '.join(sorted(outputs))}")
        self._input = inputs[0].name
        self.w, self.h = (int(v) for v in settings.onnx_input_size[:2])
        declared = inputs[0].shape[2:]
        if all(isinstance(d, int) for d in declared):
            self.h, self.w = int(declared[0]), int(declared[1])
        self.score_threshold = settings.score_threshold

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        h0, w0 = bgr.shape[:2]
        blob = cv2.resize(bgr, (self.w, self.h)).transpose(2, 0, 1)[None].astype(np.float32)
        names = [o.name for o in self._session.get_outputs()]
        out = dict(zip(names, self._session.run(None, {self._input: blob})))
        boxes, scores = [], []
        for stride in (8, 16, 32):
            cols, rows = self.w // stride, self.h // stride
            cls = out[f"cls_{stride}"].reshape(-1)
            obj = out[f"obj_{stride}"].reshape(-1)
            bbox = out[f"bbox_{stride}"].reshape(-1, 4)
            score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
            for i in np.flatnonzero(score >= self.score_threshold):
                r, c = divmod(int(i), cols) if cols else (0, 0)
                if r >= rows:
                    continue
                cx, cy = (c + bbox[i, 0]) * stride, (r + bbox[i, 1]) * stride
                bw, bh = np.exp(bbox[i, 2]) * stride, np.exp(bbox[i, 3]) * stride
                boxes.append([cx - bw / 2, cy - bh / 2, bw, bh])
                scores.append(float(score[i]))
        if not boxes:
            return []
        keep = cv2.dnn.NMSBoxes(boxes, scores, self.score_threshold, 0.3)
        sx, sy = w0 / self.w, h0 / self.h
        result = [FaceBox(boxes[k][0] * sx, boxes[k][1] * sy, boxes[k][2] * sx, boxes[k][3] * sy, scores[k])
                  for k in np.array(keep).reshape(-1)]
        return sorted(result, key=lambda b: b.score, reverse=True)


def make_detector(settings: FaceSettings) -> FaceDetector:
    return OnnxFaceDetector(settings) if settings.detector == "onnx" else HaarFaceDetector(settings)


@dataclass(frozen=True)
class Track:
    face_id: int
    box: FaceBox          # relative to the frame (0..1)
    motion: float         # smoothed centre displacement, frame widths per second


def _iou(a: FaceBox, b: FaceBox) -> float:
    x1, y1 = max(a.x, b.x), max(a.y, b.y)
    x2, y2 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


class FaceTracker:
    """Keeps one main face across frames: a stable id while it stays put, a new id after it was gone a while."""

    def __init__(self, settings: FaceSettings) -> None:
        self.s = settings
        self._next_id = 1
        self._track: Track | None = None
        self._last_seen = -1e9

    def update(self, faces: list[FaceBox], t: float) -> Track | None:
        """``faces`` relative to the frame; returns the main face's track, or None when it is gone.

        A tracked face missed for a moment (a blink of the detector) is kept, and another face does not
        take its place, until it has been unseen for ``lost_after_s``.
        """
        track = self._track
        if track is not None and t - self._last_seen <= self.s.lost_after_s:
            match = max(faces, key=lambda f: _iou(f, track.box), default=None)
            if match is not None and (_iou(match, track.box) > 0.2 or self._near(match, track.box)):
                dt = max(t - self._last_seen, 1e-3)
                shift = float(np.hypot(match.x + match.w / 2 - track.box.x - track.box.w / 2,
                                       match.y + match.h / 2 - track.box.y - track.box.h / 2))
                self._track = Track(track.face_id, match, 0.6 * track.motion + 0.4 * shift / dt)
                self._last_seen = t
            return self._track
        if not faces:
            self._track = None
            return None
        self._track = Track(self._next_id, self._pick(faces), 0.0)
        self._next_id += 1
        self._last_seen = t
        return self._track

    def _pick(self, faces: list[FaceBox]) -> FaceBox:
        if self.s.main_face == "central":
            return min(faces, key=lambda f: np.hypot(f.x + f.w / 2 - 0.5, f.y + f.h / 2 - 0.5))
        return max(faces, key=lambda f: f.w * f.h)

    @staticmethod
    def _near(a: FaceBox, b: FaceBox) -> bool:
        return float(np.hypot(a.x + a.w / 2 - b.x - b.w / 2, a.y + a.h / 2 - b.y - b.h / 2)) < max(b.w, b.h)

    def reset(self) -> None:
        self._track = None
        self._last_seen = -1e9
