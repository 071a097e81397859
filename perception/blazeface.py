"""BlazeFace face detection (MediaPipe's short- and full-range models): anchors, decoding, weighted NMS.

Scores are the model's own probabilities (not the 1.0 a Haar cascade gives every face); each face also comes
with six keypoints (the eyes, the nose tip, the mouth, the ear tragions) that the landmark stage aligns on.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from perception.settings import FaceSettings
from perception.tflite import FACE_DETECTOR_FULL, FACE_DETECTOR_SHORT, TfliteModel
from perception.types import FaceBox


@dataclass(frozen=True)
class AnchorLayout:
    """SSD anchors as MediaPipe's face_detection graphs set them: one group of cells per distinct stride."""
    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int

    def centres(self) -> np.ndarray:
        """Anchor centres, [N, 2] in 0..1 of the model input, in the order of the model's outputs."""
        out = []
        i = 0
        while i < len(self.strides):
            stride, layers = self.strides[i], 0
            while i < len(self.strides) and self.strides[i] == stride:
                layers, i = layers + 1, i + 1
            cells = -(-self.input_size // stride)
            ys, xs = np.mgrid[0:cells, 0:cells]
            centre = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
            out.append(np.repeat(centre, layers * self.anchors_per_layer, axis=1).reshape(-1, 2))
        return np.concatenate(out).astype(np.float32)


SHORT_RANGE = AnchorLayout(128, (8, 16, 16, 16), 2)
"""Faces at least ~12% of the frame's longer side (a person at a screen); 896 anchors, ~2 ms here."""
FULL_RANGE = AnchorLayout(192, (4,), 1)
"""Faces down to ~6-8% of the frame's longer side; 2304 anchors, ~6 ms here. Less sure of large faces."""
KEYPOINTS = 6
SCORE_CLIP = 100.0
NMS_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    """A face in pixels of the image: its box (with the model's score) and six (x, y) keypoints; keypoint 0 is
    the eye on the image's left when the face is upright, 1 the other eye."""
    box: FaceBox
    keypoints: tuple[tuple[float, float], ...]


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box ``a`` (x0, y0, x1, y1) against each row of ``b``."""
    x0, y0 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x1, y1 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 iou: float = NMS_IOU) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's weighted suppression: overlapping candidates are averaged (weighted by score) into one face
    that keeps the best score, which steadies the box from frame to frame. Best first."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    result = []
    alive = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = alive & (_iou(boxes[i], boxes) > iou)
        group[i] = True
        w = scores[group][:, None]
        result.append(((boxes[group] * w).sum(0) / w.sum(), (keypoints[group] * w[:, :, None]).sum(0) / w.sum(),
                       float(scores[i])))
        alive &= ~group
    return result


class BlazeFaceDetector:
    """Faces in a BGR uint8 image: letterboxed to the model's square input, decoded, merged, best first.

    ``detector_range`` "auto" runs the short-range model and, only when it finds nothing, the full-range one:
    a person at the screen costs one fast pass, one further back is still found."""

    def __init__(self, settings: FaceSettings) -> None:
        ranges = {"short": ((SHORT_RANGE, FACE_DETECTOR_SHORT),), "full": ((FULL_RANGE, FACE_DETECTOR_FULL),)}
        ranges["auto"] = ranges["short"] + ranges["full"]
        self.source = f"blazeface-{settings.detector_range}"
        self._passes = []
        for layout, packaged in ranges[settings.detector_range]:
            model = TfliteModel(packaged, settings.threads)
            if model.input_shape != (1, layout.input_size, layout.input_size, 3):
                raise ValueError(f"{model.name}: input {model.input_shape}, expected a "
                                 f"{layout.input_size}x{layout.input_size} RGB BlazeFace model")
            self._passes.append((layout, model, layout.centres()))
        self.score_threshold = settings.score_threshold
        self.min_size_ratio = settings.min_size_ratio

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        return [d.box for d in self.detections(bgr)]

    def detections(self, bgr: np.ndarray) -> list[Detection]:
        if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
            raise ValueError(f"face detectors take BGR uint8 HxWx3 images, got {bgr.dtype} {bgr.shape} "
                             "(use perception.vision.normalize_frame)")
        found: list[Detection] = []
        for layout, model, anchors in self._passes:
            found = self._detect(bgr, layout, model, anchors)
            if found:
                break
        return found

    def _detect(self, bgr: np.ndarray, layout: AnchorLayout, model: TfliteModel,
                anchors: np.ndarray) -> list[Detection]:
        h, w = bgr.shape[:2]
        side = max(h, w)
        pad_x, pad_y = (side - w) // 2, (side - h) // 2
        size = layout.input_size
        square = cv2.copyMakeBorder(bgr, pad_y, side - h - pad_y, pad_x, side - w - pad_x, cv2.BORDER_CONSTANT)
        rgb = cv2.cvtColor(cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        regressors, scores = model.run((rgb.astype(np.float32) / 127.5 - 1.0)[None])
        raw = regressors.reshape(-1, 4 + 2 * KEYPOINTS)
        logits = np.clip(scores.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
        probability = 1.0 / (1.0 + np.exp(-logits))
        keep = np.flatnonzero(probability >= self.score_threshold)
        if not len(keep):
            return []
        raw, kept = raw[keep] / size, anchors[keep]
        centre, half = raw[:, :2] + kept, raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1) * side - [pad_x, pad_y, pad_x, pad_y]
        points = (raw[:, 4:].reshape(-1, KEYPOINTS, 2) + kept[:, None]) * side - [pad_x, pad_y]
        min_side = self.min_size_ratio * min(h, w)
        found = []
        for box, kps, score in weighted_nms(boxes, points, probability[keep]):
            bw, bh = box[2] - box[0], box[3] - box[1]
            if max(bw, bh) < min_side:
                continue
            found.append(Detection(FaceBox(float(box[0]), float(box[1]), float(bw), float(bh), round(score, 4)),
                                   tuple((float(x), float(y)) for x, y in kps)))
        return found
