"""Geometric cues of one face from its 478 landmarks: head pose, eyes, mouth, smile, brows and gaze.

Everything is measured in the face's own frame (x along the eyes, y from forehead to chin, z into the
head, from the mesh's 3-D points), so a turned or tilted head does not fake a smile or a raised brow; lengths
are fractions of the outer eye-corner distance, so the distance to the camera does not matter either.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# MediaPipe face-mesh indices (refined, 478 points). "First" eye: the one on the image's left in an upright
# face (the person's right), "second": the other one.
EYE_OUTER, EYE_INNER = (33, 263), (133, 362)
EYELID_UPPER, EYELID_LOWER = (159, 386), (145, 374)
BROW_MIDDLE, BROW_INNER = (105, 334), (55, 285)
MOUTH_CORNERS = (61, 291)
LIP_INNER_UPPER, LIP_INNER_LOWER = 13, 14
FOREHEAD, CHIN = 10, 152
IRIS_CENTRES = (468, 473)

EYEBALL_RATIO = 1.2
"""Half an eye's corner-to-corner width over the eyeball's radius (~14.5 mm / 12 mm): an iris shifted by a
fraction u of the half-width has turned the eye by asin(1.2 u)."""
PITCH_ZERO_DEG = -7.0
"""The raw pitch of a face looking straight into the camera (the mesh's forehead-to-chin line is not
upright in depth): the median over frontal photos (the astronaut, Grace Hopper, four Yale faces)."""
GAZE_Y_ZERO = -0.18
"""The vertical iris offset (half eye widths) of eyes looking into the camera: the iris centre sits above the
corners' midpoint; the median over the same photos."""
SMILE_MID, SMILE_SPAN = 0.005, 0.06
"""Corner lift (eye distances) that reads as smile 0.5, and the lift range that takes the score from 0 to 1.
On the real photos of tests/perception/face_photos.py, smiles lift 0.010-0.046, straight faces -0.044-0.000."""


@dataclass(frozen=True)
class FaceGeometry:
    """One frame's reading of a face. Angles in degrees; lengths as fractions of the outer eye-corner distance.

    ``pitch`` > 0: the face tips up; ``yaw`` > 0: it turns toward the image's right (the person's left);
    ``roll`` > 0: the eye line turns clockwise in the image. ``eye_openness``: eyelid gap over eye width,
    mean of both eyes (~0.3 open, under ~0.12 closed). ``mouth_opening``: gap between the inner lips.
    ``corner_lift``: how far the mouth corners sit above the lips' centre line (> 0 in a smile).
    ``brow_raise``: height of the brows' middle above the upper eyelids. ``brow_gap``: distance between
    the inner ends of the brows (it shrinks in a frown). ``gaze_x``/``gaze_y``: how far the irises sit from
    where they sit when the eyes look straight out of the face, in half eye widths along the face's axes
    (x > 0 toward the image's right, y > 0 downward), mean of both eyes. ``gaze_yaw``/``gaze_pitch``: where
    head and eyes point together, in degrees, same signs as yaw and pitch.
    """
    eye_distance_px: float
    pitch: float
    yaw: float
    roll: float
    eye_openness: float
    mouth_opening: float
    corner_lift: float
    brow_raise: float
    brow_gap: float
    gaze_x: float
    gaze_y: float
    gaze_yaw: float
    gaze_pitch: float


def face_axes(points: np.ndarray) -> np.ndarray:
    """3x3 rotation whose columns are the face's x (first eye to second), y (forehead to chin) and z (into the
    head) axes in image coordinates (x right, y down, z away from the camera)."""
    x = points[EYE_OUTER[1]] - points[EYE_OUTER[0]]
    x = x / np.linalg.norm(x)
    y = points[CHIN] - points[FOREHEAD]
    y = y - x * float(y @ x)
    y = y / np.linalg.norm(y)
    return np.stack([x, y, np.cross(x, y)], axis=1)


def head_angles(axes: np.ndarray) -> tuple[float, float, float]:
    """(pitch, yaw, roll) in degrees from :func:`face_axes`, as roll of a head first turned (yaw), then tipped
    (pitch) about its own axes: a nod stays a change of pitch however the head is tilted. Pitch is corrected
    by :data:`PITCH_ZERO_DEG`."""
    x, y, z = axes[:, 0], axes[:, 1], axes[:, 2]
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, float(x[2])))))
    pitch = -math.degrees(math.atan2(float(y[2]), float(z[2]))) - PITCH_ZERO_DEG
    roll = math.degrees(math.atan2(float(x[1]), float(x[0])))
    return pitch, yaw, roll


def _eye_angle(offset: float) -> float:
    return math.degrees(math.asin(max(-1.0, min(1.0, EYEBALL_RATIO * offset))))


def measure(points: np.ndarray) -> FaceGeometry:
    """The cues of one face from its [478, 3] landmarks (image pixels, z in the same units)."""
    p = points.astype(np.float64)
    axes = face_axes(p)
    eye_distance = float(np.linalg.norm(p[EYE_OUTER[1]] - p[EYE_OUTER[0]]))
    # The face frame, in eye distances: x along the eyes, y down the face, origin between the outer corners.
    local = (p - p[list(EYE_OUTER)].mean(0)) @ axes / max(eye_distance, 1e-6)
    pitch, yaw, roll = head_angles(axes)

    def width(a: int, b: int) -> float:
        return abs(float(local[b, 0] - local[a, 0]))

    def height(top: int, bottom: int) -> float:
        return float(local[bottom, 1] - local[top, 1])

    openness = [height(EYELID_UPPER[i], EYELID_LOWER[i]) / max(width(EYE_OUTER[i], EYE_INNER[i]), 1e-6)
                for i in (0, 1)]
    lip_centre = (local[LIP_INNER_UPPER, 1] + local[LIP_INNER_LOWER, 1]) / 2
    corners = local[list(MOUTH_CORNERS), 1].mean()
    brow = np.mean([height(BROW_MIDDLE[i], EYELID_UPPER[i]) for i in (0, 1)])
    gaze = []
    for i in (0, 1):
        centre = (local[EYE_OUTER[i], :2] + local[EYE_INNER[i], :2]) / 2
        half = max(width(EYE_OUTER[i], EYE_INNER[i]) / 2, 1e-6)
        gaze.append((local[IRIS_CENTRES[i], :2] - centre) / half)
    gx, gy = (float(v) for v in np.mean(gaze, axis=0))
    return FaceGeometry(
        eye_distance_px=round(eye_distance, 2), pitch=round(pitch, 2), yaw=round(yaw, 2), roll=round(roll, 2),
        eye_openness=round(float(np.mean(openness)), 4),
        mouth_opening=round(max(0.0, height(LIP_INNER_UPPER, LIP_INNER_LOWER)), 4),
        corner_lift=round(float(lip_centre - corners), 4),
        brow_raise=round(float(brow), 4), brow_gap=round(width(*BROW_INNER), 4),
        gaze_x=round(gx, 4), gaze_y=round(gy - GAZE_Y_ZERO, 4),
        gaze_yaw=round(yaw + _eye_angle(gx), 2), gaze_pitch=round(pitch - _eye_angle(gy - GAZE_Y_ZERO), 2))


def smile_score(corner_lift: float) -> float:
    """0..1 from the mouth corners' lift; 0.5 and above is a smile."""
    return round(max(0.0, min(1.0, 0.5 + (corner_lift - SMILE_MID) / SMILE_SPAN)), 3)
