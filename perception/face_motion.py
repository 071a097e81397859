"""Face cues over time: nods and head shakes, blinks, and gaze turned away from where the person usually looks.

Fed one :class:`~perception.face_geometry.FaceGeometry` per analysed frame of the tracked face; a nod is the
head pitching down and back (or up and back) within ``nod_window_s``, a shake the same in yaw, each only when
that axis dominates, so turning to look at something is not a shake and looking down to read is not a nod.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from perception.face_geometry import FaceGeometry
from perception.settings import FaceSettings

DOMINANCE = 1.5
"""A nod's pitch excursion must be this many times the yaw excursion in the same window (and vice versa)."""
BASELINE_MIN_S = 1.0
"""Until this much gaze history exists, "away" is measured from the camera, not from the person's habit."""


@dataclass(frozen=True)
class FaceMotion:
    """What the recent frames of one face show: ``nod``/``shake`` (a nod or head shake within the window),
    ``blink`` (the eyes closed and reopened within ``blink_max_s``, reported on the frame they reopen),
    ``gaze_offset`` (degrees between where the eyes point now and where this person usually looks) and
    ``gaze_away`` (that offset is at least ``gaze_away_deg``)."""
    nod: bool = False
    shake: bool = False
    blink: bool = False
    gaze_offset: float = 0.0
    gaze_away: bool = False


def excursion(values: np.ndarray) -> float:
    """The largest out-and-back movement in ``values``: how far they went from where they were and came back
    (the smaller of the two legs), in either direction."""
    if len(values) < 3:
        return 0.0
    low_before, low_after = np.minimum.accumulate(values), np.minimum.accumulate(values[::-1])[::-1]
    high_before, high_after = np.maximum.accumulate(values), np.maximum.accumulate(values[::-1])[::-1]
    peak = np.minimum(values - low_before, values - low_after)
    trough = np.minimum(high_before - values, high_after - values)
    return float(max(peak.max(), trough.max()))


class FaceMotionTracker:
    """Keeps one face's recent pose, gaze and eye openness; ``reset`` when the tracked face changes."""

    def __init__(self, settings: FaceSettings) -> None:
        self.settings = settings
        self._history: deque[tuple[float, float, float, float, float]] = deque()
        self._closed_since: float | None = None

    def update(self, t: float, face: FaceGeometry) -> FaceMotion:
        s = self.settings
        self._history.append((t, face.pitch, face.yaw, face.gaze_yaw, face.gaze_pitch))
        keep = max(s.nod_window_s, s.gaze_baseline_s)
        while self._history and self._history[0][0] < t - keep:
            self._history.popleft()
        history = np.array(self._history)
        recent = history[history[:, 0] >= t - s.nod_window_s]
        pitch, yaw = excursion(recent[:, 1]), excursion(recent[:, 2])
        nod = pitch >= s.nod_min_deg and pitch >= DOMINANCE * yaw
        shake = yaw >= s.shake_min_deg and yaw >= DOMINANCE * pitch
        reference = (0.0, 0.0)
        if t - history[0, 0] >= BASELINE_MIN_S:
            reference = (float(np.median(history[:, 3])), float(np.median(history[:, 4])))
        offset = math.hypot(face.gaze_yaw - reference[0], face.gaze_pitch - reference[1])
        blink = False
        if face.eye_openness < s.eyes_closed_below:
            if self._closed_since is None:
                self._closed_since = t
        elif self._closed_since is not None:
            blink = t - self._closed_since <= s.blink_max_s
            self._closed_since = None
        return FaceMotion(nod=nod, shake=shake, blink=blink, gaze_offset=round(offset, 2),
                          gaze_away=offset >= s.gaze_away_deg)

    def reset(self) -> None:
        self._history.clear()
        self._closed_since = None
