"""Per-frame visual analysis: normalise the frame, find and track the main face, read its landmarks and
expression into one FaceCue."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from perception.blazeface import BlazeFaceDetector
from perception.expression import ScoreSmoother, make_expression_model
from perception.face import FaceTracker, make_detector
from perception.face_geometry import measure, smile_score
from perception.face_mesh import FaceMesh, Landmarks, crop, roi_from_detection, roi_from_landmarks
from perception.face_motion import FaceMotionTracker
from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
from perception.types import FaceBox, FaceCue

OVERLAY_POINTS = (10, 297, 284, 389, 454, 361, 397, 379, 400, 152, 176, 150, 172, 132, 234, 162, 54, 67,
                  70, 105, 107, 336, 334, 300, 33, 159, 133, 145, 362, 386, 263, 374, 1, 61, 0, 291, 17, 468, 473)
"""Landmarks sent for an overlay (39, ~0.5 kB a cue): every other point of the face outline, the brows, eye
corners and lids, the nose tip, the lips and the irises."""
EXPRESSION_CROP = 1.1
"""The expression classifier's crop, upright, this many times the mesh's extent (FER-2013 faces are cropped
tight, forehead to chin)."""


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
    """The runtime calls ``analyze`` off the loop at ``vision.sample_fps``; one instance per session (it tracks).

    With landmarks on, each detection (up to ``face.max_faces``, best first) counts as a face only if the mesh
    model agrees; the main face's mesh, irises, geometry and motion fill the cue."""

    def __init__(self, vision: VisionSettings, face: FaceSettings, expression: ExpressionSettings) -> None:
        self.vision = vision
        self.face = face
        self.detector = make_detector(face)
        self.tracker = FaceTracker(face)
        self.mesh = FaceMesh(face.threads, face.iris) if face.landmarks else None
        self.motion = FaceMotionTracker(face)
        self.expression = make_expression_model(expression, face.threads)
        self.smoother = ScoreSmoother(self.expression.classes, expression.smoothing) if self.expression else None
        self._face_id: int | None = None
        self.sources = tuple(s for s in (
            f"detector: {self.detector.source}",
            f"landmarks: face-mesh{'+iris' if face.iris else ''}" if self.mesh else "",
            f"expression: {self.expression.source}" if self.expression else "") if s)

    def _faces(self, bgr: np.ndarray) -> list[tuple[FaceBox, Landmarks | None]]:
        """Faces in pixels, best first, each with its mesh when landmarks are on (only faces the mesh confirms)."""
        if isinstance(self.detector, BlazeFaceDetector):
            found = [(d.box, (d.keypoints[0], d.keypoints[1])) for d in self.detector.detections(bgr)]
        else:
            found = [(box, None) for box in self.detector.detect(bgr)]
        if self.mesh is None:
            return [(box, None) for box, _ in found]
        faces = []
        for box, eyes in found[: self.face.max_faces]:
            mesh = self.mesh.landmarks(bgr, roi_from_detection((box.x, box.y, box.w, box.h), eyes))
            if mesh.presence >= self.face.presence_threshold:
                faces.append((box, mesh))
        return faces

    def analyze(self, image: np.ndarray, t: float) -> FaceCue:
        """The main face in ``image`` (any layout, see :func:`normalize_frame`) at session time ``t``."""
        bgr = normalize_frame(image, self.vision.max_width)
        h, w = bgr.shape[:2]
        faces = self._faces(bgr)
        rel = [FaceBox(float(b.x / w), float(b.y / h), float(b.w / w), float(b.h / h), float(b.score))
               for b, _ in faces]
        track = self.tracker.update(rel, t)
        if track is None:
            return FaceCue(t=t, face_present=False, faces=len(faces), sources=self.sources)
        cue = FaceCue(t=t, face_present=True, face_id=track.face_id, box=track.box, faces=len(faces),
                      motion=round(track.motion, 4), sources=self.sources)
        if not track.seen:
            return cue
        if track.face_id != self._face_id:
            # Another person's expression and head history say nothing about this one.
            self.motion.reset()
            if self.smoother is not None:
                self.smoother.reset()
            self._face_id = track.face_id
        mesh = next(m for b, (_, m) in zip(rel, faces) if b is track.box)
        if mesh is not None and self.mesh is not None:
            cue = self._landmark_cues(cue, self.mesh.with_irises(bgr, mesh), w, h)
        return self._expression(cue, bgr, mesh)

    def _landmark_cues(self, cue: FaceCue, mesh: Landmarks, w: int, h: int) -> FaceCue:
        geo = measure(mesh.points)
        moved = self.motion.update(cue.t, geo)
        points = tuple((round(float(mesh.points[i, 0] / w), 3), round(float(mesh.points[i, 1] / h), 3))
                       for i in OVERLAY_POINTS)
        return replace(cue, smile=smile_score(geo.corner_lift), mouth_opening=geo.mouth_opening,
                       mouth_open=geo.mouth_opening > self.face.mouth_open_above, eye_openness=geo.eye_openness,
                       blink=moved.blink, brow_raise=geo.brow_raise, brow_gap=geo.brow_gap,
                       head_pitch=geo.pitch, head_yaw=geo.yaw, head_roll=geo.roll, nod=moved.nod,
                       shake=moved.shake, gaze_yaw=geo.gaze_yaw, gaze_pitch=geo.gaze_pitch,
                       gaze_offset=moved.gaze_offset, gaze_away=moved.gaze_away, points=points)

    def _expression(self, cue: FaceCue, bgr: np.ndarray, mesh: Landmarks | None) -> FaceCue:
        if self.expression is None or self.smoother is None or cue.box is None:
            return cue
        h, w = bgr.shape[:2]
        if mesh is not None:
            face = crop(bgr, roi_from_landmarks(mesh.points, EXPRESSION_CROP), 96)
        else:
            box = cue.box
            x0, y0 = max(0, int(box.x * w)), max(0, int(box.y * h))
            x1, y1 = min(w, int((box.x + box.w) * w)), min(h, int((box.y + box.h) * h))
            if x1 - x0 < 16 or y1 - y0 < 16:
                return cue
            face = bgr[y0:y1, x0:x1]
        reading = self.smoother.update(self.expression.scores(face))
        smiling = reading.scores.get("happiness", 0.0) >= 0.5 or (cue.smile is not None and cue.smile >= 0.5)
        return replace(cue, expression=reading.label, expression_confidence=round(reading.confidence, 4),
                       smiling=smiling, valence=reading.valence)

    def reset(self) -> None:
        self.tracker.reset()
        self.motion.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self._face_id = None
