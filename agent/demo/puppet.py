"""A face photo made to move: its landmarks are posed (head pitch and yaw, smile, brows, open mouth) and the photo
is warped piecewise-affinely from where they were to where the pose puts them."""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import LinearNDInterpolator

from perception.blazeface import BlazeFaceDetector
from perception.face_geometry import BROW_INNER, EYE_OUTER, LIP_INNER_LOWER, LIP_INNER_UPPER, MOUTH_CORNERS
from perception.face_mesh import FaceMesh, roi_from_detection
from perception.settings import FaceSettings

LOWER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 146, 91, 181, 84, 17, 314, 405, 321, 375)
"""MediaPipe's inner and outer lower-lip points: they drop with the jaw even where a closed mouth puts them level
with the upper lip."""
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
"""The inner lips' outline, upper lip left to right then lower lip back: an open mouth's dark inside."""
MOUTH_INSIDE = (35, 25, 60)
"""BGR of the inside of an open mouth."""
MAP_STEP = 4
"""The warp is interpolated on every MAP_STEP-th pixel and resized up (it is linear inside each triangle anyway)."""
CACHE = 64
"""Poses remembered (rendered frames): a held expression is warped once."""


@dataclass(frozen=True)
class Pose:
    """How the face looks, relative to the photo. Angles in degrees: ``pitch`` > 0 lifts the chin, ``yaw`` > 0
    turns the face toward the image's right. Lengths in outer eye-corner distances: ``smile`` lifts (and widens)
    the mouth corners, < 0 lowers them; ``brows`` raises the inner brows and draws them together (worry), < 0
    lowers them (a frown); ``mouth`` drops the jaw and opens the lips. The eyes turn with the head."""
    pitch: float = 0.0
    yaw: float = 0.0
    smile: float = 0.0
    brows: float = 0.0
    mouth: float = 0.0

    def rounded(self) -> Pose:
        """The pose at the precision a frame shows (a tenth of a degree, a thousandth of an eye distance)."""
        return Pose(round(self.pitch, 1), round(self.yaw, 1), round(self.smile, 3), round(self.brows, 3),
                    round(self.mouth, 3))


def find_landmarks(bgr: np.ndarray) -> np.ndarray:
    """The 478 face-mesh points [x, y, z] of the one face in ``bgr``, by the project's own face models."""
    settings = FaceSettings()
    found = BlazeFaceDetector(settings).detections(bgr)
    if not found:
        raise ValueError("no face found in the photo to animate")
    mesh = FaceMesh(settings.threads, iris=True)
    box = found[0].box
    landmarks = mesh.landmarks(bgr, roi_from_detection((box.x, box.y, box.w, box.h), found[0].keypoints[:2]))
    return mesh.with_irises(bgr, landmarks).points.astype(np.float64)


def _bump(points: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    """Weights 1 at ``centre`` falling off as a Gaussian of width ``sigma`` (pixels) over ``points`` [N, 2]."""
    return np.exp(-np.sum((points - centre) ** 2, axis=1) / (2 * sigma ** 2))


class Puppet:
    """Renders ``photo`` (BGR, any size; scaled to ``size``) in any :class:`Pose`; the photo shows the neutral pose."""

    def __init__(self, photo: np.ndarray, size: tuple[int, int] = (640, 480)) -> None:
        self.size = size
        self.photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        self.points = find_landmarks(self.photo)
        self.eye = float(np.linalg.norm(self.points[EYE_OUTER[1], :2] - self.points[EYE_OUTER[0], :2]))
        w, h = size
        edge = np.linspace(0, 1, 9)
        border = {(x * (w - 1), y * (h - 1)) for x in edge for y in (0, 1)} | {(x * (w - 1), y * (h - 1))
                                                                               for x in (0, 1) for y in edge}
        self._fixed = np.array(sorted(border))
        ys, xs = np.mgrid[0:h:MAP_STEP, 0:w:MAP_STEP]
        # Each grid value is sampled where its pixel's centre lands when the grid is resized up to the frame.
        self._grid = np.stack([xs.ravel(), ys.ravel()], axis=1) + (MAP_STEP - 1) / 2
        self._grid_shape = ys.shape
        self._frames: OrderedDict[Pose, np.ndarray] = OrderedDict()

    def posed(self, pose: Pose) -> np.ndarray:
        """Where ``pose`` puts the landmarks: [478, 2] image pixels."""
        p = self.points.copy()
        xy, rest, e = p[:, :2], self.points[:, :2], self.eye
        for corner in MOUTH_CORNERS:
            weight = _bump(rest, rest[corner], 0.15 * e)
            outward = np.sign(self.points[corner, 0] - self.points[list(MOUTH_CORNERS), 0].mean())
            xy[:, 1] -= weight * pose.smile * e
            xy[:, 0] += weight * outward * max(pose.smile, 0.0) * 0.5 * e
        for inner in BROW_INNER:
            weight = _bump(rest, rest[inner], 0.18 * e)
            inward = np.sign(self.points[list(BROW_INNER), 0].mean() - self.points[inner, 0])
            xy[:, 1] -= weight * pose.brows * e
            xy[:, 0] += weight * inward * abs(pose.brows) * 0.4 * e
        if pose.mouth:
            lip_line = (self.points[LIP_INNER_UPPER, 1] + self.points[LIP_INNER_LOWER, 1]) / 2
            centre_x = self.points[list(MOUTH_CORNERS), 0].mean()
            below = self.points[:, 1] > lip_line + 0.01 * e
            below[list(LOWER_LIP)] = True
            below[list(MOUTH_CORNERS)] = False
            # Narrow across the mouth, so the lips part in the middle and stay joined at the corners.
            across = np.exp(-((self.points[:, 0] - centre_x) / (0.16 * e)) ** 2 / 2)
            xy[:, 1] += below * across * pose.mouth * e
        return self._rotate(p, pose.pitch, pose.yaw)

    def _rotate(self, p: np.ndarray, pitch: float, yaw: float) -> np.ndarray:
        """The points turned about the head's centre (an eye distance behind the face), seen straight on."""
        pivot = p[:468].mean(axis=0) + np.array([0.0, 0.0, self.eye])
        a, b = math.radians(-pitch), math.radians(yaw)
        tip = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
        turn = np.array([[math.cos(b), 0, -math.sin(b)], [0, 1, 0], [math.sin(b), 0, math.cos(b)]])
        return ((p - pivot) @ (turn @ tip).T + pivot)[:, :2]

    def render(self, pose: Pose) -> np.ndarray:
        """The photo warped into ``pose`` (BGR, ``size``)."""
        pose = pose.rounded()
        if pose in self._frames:
            self._frames.move_to_end(pose)
            return self._frames[pose]
        posed = self.posed(pose)
        source = np.vstack([self.points[:, :2], self._fixed])
        target = np.vstack([posed, self._fixed])
        where = LinearNDInterpolator(target, source)(self._grid).astype(np.float32)
        w, h = self.size
        maps = [cv2.resize(where[:, k].reshape(self._grid_shape), (w, h), interpolation=cv2.INTER_LINEAR)
                for k in (0, 1)]
        frame = cv2.remap(self.photo, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if pose.mouth > 0:
            # The photo's closed lips hold no inside of a mouth: the stretched gap between them is painted dark.
            cv2.fillPoly(frame, [np.round(posed[list(INNER_LIPS)] * 4).astype(np.int32)], MOUTH_INSIDE,
                         cv2.LINE_AA, shift=2)
        self._frames[pose] = frame
        if len(self._frames) > CACHE:
            self._frames.popitem(last=False)
        return frame
