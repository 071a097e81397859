"""Face landmarks: MediaPipe's 468-point face mesh and its iris model, run on crops aligned to the face.

The mesh is read from a square crop around the face rotated so the eyes are level; each iris from a crop
around its eye. Points come back in pixels of the image (z in the same units, smaller = nearer the camera),
478 of them in MediaPipe's refined order: 0-467 the mesh, 468-472 the iris of the eye at points 33/133
(centre first), 473-477 the iris of the eye at 362/263.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from perception.tflite import FACE_MESH, IRIS, TfliteModel

MESH_POINTS = 468
IRIS_POINTS = 5
FACE_ROI_SCALE = 1.5
"""The mesh crop is this many times the detector's box (MediaPipe's face_landmark graph)."""
EYE_ROI_SCALE = 2.3
"""The iris crop is this many times the eye's corner-to-corner width (MediaPipe's iris graph)."""
EYES = ((33, 133, False), (362, 263, True))
"""Each eye's corners, left to right in an upright face, and whether its crop is mirrored: the iris model
was trained on the eye at 33/133, so the other one is flipped to look like it."""
MESH_SIZE, IRIS_SIZE = 192, 64


@dataclass(frozen=True)
class Roi:
    """A square region of the image: centre and side in pixels, rotated by ``angle`` radians (the direction of
    its x axis in the image, so an eye line at that angle becomes level in the crop)."""
    cx: float
    cy: float
    side: float
    angle: float

    def to_crop(self, size: int) -> np.ndarray:
        """The 2x3 affine matrix taking image pixels into a ``size`` x ``size`` crop of this region."""
        s = size / self.side
        c, n = math.cos(self.angle) * s, math.sin(self.angle) * s
        rot = np.array([[c, n], [-n, c]])
        shift = np.array([size / 2, size / 2]) - rot @ np.array([self.cx, self.cy])
        return np.hstack([rot, shift[:, None]])

    def to_image(self, points: np.ndarray, size: int) -> np.ndarray:
        """Crop points [N, 3] (x, y, z in crop pixels) back to image pixels, z scaled like x and y."""
        s = self.side / size
        c, n = math.cos(self.angle), math.sin(self.angle)
        x, y = points[:, 0] - size / 2, points[:, 1] - size / 2
        return np.stack([self.cx + (c * x - n * y) * s, self.cy + (n * x + c * y) * s, points[:, 2] * s], axis=1)


def roi_between(left: tuple[float, float], right: tuple[float, float], centre: tuple[float, float],
                side: float) -> Roi:
    """A region centred at ``centre`` turned so the line from ``left`` to ``right`` is level."""
    return Roi(centre[0], centre[1], side, math.atan2(right[1] - left[1], right[0] - left[0]))


def crop(image: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """The ``size`` x ``size`` crop of ``roi`` (black beyond the image's edges)."""
    return cv2.warpAffine(image, roi.to_crop(size), (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


@dataclass(frozen=True)
class Landmarks:
    """One face's points [468 or 478, 3] in image pixels, and the mesh model's own probability of a face."""
    points: np.ndarray
    presence: float


class FaceMesh:
    """Mesh and irises of one face in a BGR uint8 image, given where it is (a detection, or the face's points)."""

    def __init__(self, threads: int = 1, iris: bool = True) -> None:
        self.mesh = TfliteModel(FACE_MESH, threads)
        self.iris = TfliteModel(IRIS, threads) if iris else None
        for model, size in ((self.mesh, MESH_SIZE), (self.iris, IRIS_SIZE)):
            if model is not None and model.input_shape != (1, size, size, 3):
                raise ValueError(f"{model.name}: input {model.input_shape}, expected {size}x{size} RGB")

    def landmarks(self, bgr: np.ndarray, roi: Roi) -> Landmarks:
        """The 468 mesh points of the face in ``roi`` and the model's probability that there is a face at all."""
        x = crop(bgr, roi, MESH_SIZE)[:, :, ::-1].astype(np.float32) / 255.0
        raw, flag = self.mesh.run(x[None])
        presence = 1.0 / (1.0 + math.exp(-float(np.clip(flag.reshape(-1)[0], -80, 80))))
        return Landmarks(roi.to_image(raw.reshape(MESH_POINTS, 3), MESH_SIZE).astype(np.float32), round(presence, 4))

    def with_irises(self, bgr: np.ndarray, face: Landmarks) -> Landmarks:
        """``face`` with its 10 iris points appended (478 in all); without the iris model each iris is its eye's
        centre, so gaze then follows the head alone."""
        irises = [self._iris(bgr, face.points, *eye) for eye in EYES]
        return Landmarks(np.concatenate([face.points[:MESH_POINTS], *irises]).astype(np.float32), face.presence)

    def _iris(self, bgr: np.ndarray, mesh: np.ndarray, left: int, right: int, mirrored: bool) -> np.ndarray:
        a, b = mesh[left, :2], mesh[right, :2]
        centre = (a + b) / 2
        if self.iris is None:
            return np.repeat(np.array([[centre[0], centre[1], (mesh[left, 2] + mesh[right, 2]) / 2]]),
                             IRIS_POINTS, axis=0)
        roi = roi_between((float(a[0]), float(a[1])), (float(b[0]), float(b[1])),
                          (float(centre[0]), float(centre[1])), float(np.hypot(*(b - a))) * EYE_ROI_SCALE)
        eye = crop(bgr, roi, IRIS_SIZE)[:, :, ::-1]
        if mirrored:
            eye = eye[:, ::-1]
        _, iris = self.iris.run((eye.astype(np.float32) / 255.0)[None])
        iris = iris.reshape(IRIS_POINTS, 3)
        if mirrored:
            iris[:, 0] = IRIS_SIZE - iris[:, 0]
        return roi.to_image(iris, IRIS_SIZE)


def roi_from_detection(box: tuple[float, float, float, float],
                       eyes: tuple[tuple[float, float], tuple[float, float]] | None) -> Roi:
    """The mesh crop for a detector's box (x, y, w, h), turned level with its eye keypoints when it has them."""
    x, y, w, h = box
    centre, side = (x + w / 2, y + h / 2), max(w, h) * FACE_ROI_SCALE
    return roi_between(eyes[0], eyes[1], centre, side) if eyes else Roi(centre[0], centre[1], side, 0.0)


def roi_from_landmarks(points: np.ndarray, scale: float = FACE_ROI_SCALE) -> Roi:
    """A crop around a face's mesh, level with its outer eye corners: ``scale`` times the mesh's extent
    measured in the face's own (rotated) frame, so a tilted head does not inflate it. At 1.5 it is the crop
    MediaPipe's tracking step feeds the mesh model next."""
    xy = points[:MESH_POINTS, :2].astype(np.float64)
    angle = math.atan2(points[263, 1] - points[33, 1], points[263, 0] - points[33, 0])
    c, n = math.cos(angle), math.sin(angle)
    local = xy @ np.array([[c, -n], [n, c]])
    lo, hi = local.min(0), local.max(0)
    mid = (lo + hi) / 2
    return Roi(c * mid[0] - n * mid[1], n * mid[0] + c * mid[1], float((hi - lo).max()) * scale, angle)
