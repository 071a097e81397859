"""Per-frame visual analysis: normalise the frame, find and track the main face, read its expression."""
from __future__ import annotations

import cv2
import numpy as np

from perception.expression import EXPRESSION_VALENCE, ScoreSmoother, make_expression_model
from perception.face import FaceTracker, make_detector
from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
from perception.types import FaceBox, FaceCue


def normalize_frame(image: np.ndarray, max_width: int) -> np.ndarray:
    """Any decoded frame (gray, BGR, BGRA; any size or dtype) as contiguous BGR uint8 at most ``max_width`` wide."""
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"not an image: array of shape {image.shape}")
    if image.dtype != np.uint8:
        scale = 255.0 if np.issubdtype(image.dtype, np.floating) and float(image.max(initial=0)) <= 1.0 else 1.0
        image = np.clip(image.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    elif image.shape[2] == 1:
        image = cv2.cvtColor(image[..., 0], cv2.COLOR_GRAY2BGR)
    elif image.shape[2] != 3:
        raise ValueError(f"unsupported frame with {image.shape[2]} channels")
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

    def analyze(self, image: np.ndarray, t: float) -> FaceCue:
        bgr = normalize_frame(image, self.vision.max_width)
        h, w = bgr.shape[:2]
        found = self.detector.detect(bgr)
        rel = [FaceBox(float(b.x / w), float(b.y / h), float(b.w / w), float(b.h / h), float(b.score)) for b in found]
        track = self.tracker.update(rel, t)
        if track is None or not found:
            return FaceCue(t=t, face_present=track is not None, face_id=track.face_id if track else None,
                           box=track.box if track else None, faces=len(found), motion=track.motion if track else 0.0)
        box = track.box
        label, confidence, smiling, valence = None, 0.0, None, None
        if self.expression is not None and self.smoother is not None:
            x0, y0 = max(0, int(box.x * w)), max(0, int(box.y * h))
            x1, y1 = min(w, int((box.x + box.w) * w)), min(h, int((box.y + box.h) * h))
            if x1 - x0 >= 16 and y1 - y0 >= 16:
                result = self.smoother.update(self.expression.scores(bgr[y0:y1, x0:x1]))
                label, confidence = result.label, result.confidence
                smiling = result.scores.get("happiness", 0.0) >= 0.5
                valence = EXPRESSION_VALENCE.get(label, 0.0) * confidence
        return FaceCue(t=t, face_present=True, face_id=track.face_id, box=box, faces=len(found), motion=track.motion,
                       expression=label, expression_confidence=round(confidence, 4), smiling=smiling,
                       valence=None if valence is None else round(valence, 4))

    def reset(self) -> None:
        self.tracker.reset()
        if self.smoother is not None:
            self.smoother.reset()
