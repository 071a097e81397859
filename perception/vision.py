"""Per-frame visual analysis: normalise the frame, find and track the main face, read its expression."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from perception.expression import ScoreSmoother, make_expression_model
from perception.face import FaceTracker, make_detector
from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
from perception.types import FaceBox, FaceCue


def normalize_frame(image: np.ndarray, max_width: int) -> np.ndarray:
    """Any decoded frame as contiguous BGR uint8 at most ``max_width`` wide (aspect kept).

    Takes gray (HxW or HxWx1), BGR (HxWx3) or BGRA (HxWx4) of any size; uint8, other integer types
    (scaled from their full range), bool, or float (0..1 if its maximum is at most 1, else 0..255).
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"not an image: {type(image).__name__} of shape {getattr(image, 'shape', None)}")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ValueError(f"unsupported frame with {image.shape[2]} channels (expected gray, BGR or BGRA)")
    image = np.ascontiguousarray(image)
    if image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    elif np.issubdtype(image.dtype, np.integer) and image.dtype != np.uint8:
        image = np.clip(image.astype(np.float32) * (255.0 / np.iinfo(image.dtype).max), 0, 255).astype(np.uint8)
    elif np.issubdtype(image.dtype, np.floating):
        scale = 255.0 if float(np.nanmax(image)) <= 1.0 else 1.0
        image = np.clip(np.nan_to_num(image.astype(np.float32)) * scale, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"not an image: array of dtype {image.dtype}")
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    h, w = image.shape[:2]
    if w > max_width:
        image = cv2.resize(image, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


class FaceAnalyzer:
    """The runtime calls ``analyze`` off the loop at ``vision.sample_fps``; one instance per session (it tracks)."""

    def __init__(self, vision: VisionSettings, face: FaceSettings, expression: ExpressionSettings) -> None:
        self.vision = vision
        self.detector = make_detector(face)
        self.tracker = FaceTracker(face)
        self.expression = make_expression_model(expression)
        self.smoother = ScoreSmoother(self.expression.classes, expression.smoothing) if self.expression else None
        self._expression_face: int | None = None

    def analyze(self, image: np.ndarray, t: float) -> FaceCue:
        """The main face in ``image`` (any layout, see :func:`normalize_frame`) at session time ``t``."""
        bgr = normalize_frame(image, self.vision.max_width)
        h, w = bgr.shape[:2]
        found = self.detector.detect(bgr)
        rel = [FaceBox(float(b.x / w), float(b.y / h), float(b.w / w), float(b.h / h), float(b.score)) for b in found]
        track = self.tracker.update(rel, t)
        if track is None:
            return FaceCue(t=t, face_present=False, faces=len(found))
        cue = FaceCue(t=t, face_present=True, face_id=track.face_id, box=track.box, faces=len(found),
                      motion=round(track.motion, 4))
        if not track.seen or self.expression is None or self.smoother is None:
            return cue
        if track.face_id != self._expression_face:
            self.smoother.reset()  # another person's expression history says nothing about this one
            self._expression_face = track.face_id
        box = track.box
        x0, y0 = max(0, int(box.x * w)), max(0, int(box.y * h))
        x1, y1 = min(w, int((box.x + box.w) * w)), min(h, int((box.y + box.h) * h))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return cue
        reading = self.smoother.update(self.expression.scores(bgr[y0:y1, x0:x1]))
        return replace(cue, expression=reading.label, expression_confidence=round(reading.confidence, 4),
                       smiling=reading.scores.get("happiness", 0.0) >= 0.5, valence=reading.valence)

    def reset(self) -> None:
        self.tracker.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self._expression_face = None
