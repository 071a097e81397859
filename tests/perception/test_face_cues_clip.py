"""The turn-taking face cues on short clips made from real photographs, through the whole analyser.

No package ships a video of a nodding face, so each clip is one real photo held like a card in front of a
close camera and tipped (a nod) or turned (a shake, a look away) in perspective, 5 frames a second as the
runtime samples them. A card is flat, so the mesh reads only part of the card's angle (about half at 45
degrees), but the landmarks, the head pose and the flags are the real pipeline's output.

What the TurnTaker reads from these FaceCues: a ``nod`` while the agent speaks makes the user's sound a
backchannel, never a barge-in; ``gaze_away`` with ``mouth_open`` during a pause means the user is holding
the floor (thinking, about to go on), so the turn is not over.
"""
import math

import cv2
import numpy as np
import pytest

from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
from perception.types import FaceCue
from perception.vision import FaceAnalyzer
from tests.perception.face_photos import FACES

FPS = 5.0


def card(image: np.ndarray, centre: tuple[float, float], pitch: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    """``image`` as a flat card turned about ``centre``: tipped ``pitch`` degrees with its top away from the
    camera (the face looks down) and turned ``yaw`` degrees about the vertical, seen by a camera whose focal
    length is 0.35 of the image width."""
    h, w = image.shape[:2]
    f = 0.35 * w
    a, b = math.radians(pitch), math.radians(-yaw)
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    moved = []
    for x, y in corners:
        p = ry @ rx @ np.array([x - centre[0], y - centre[1], 0.0])
        moved.append([centre[0] + f * p[0] / (f + p[2]), centre[1] + f * p[1] / (f + p[2])])
    homography = cv2.getPerspectiveTransform(corners, np.float32(moved))
    return cv2.warpPerspective(image, homography, (w, h), borderMode=cv2.BORDER_REPLICATE)


def clip(name: str, poses: list[tuple[float, float]]) -> list[FaceCue]:
    """The FaceCues of a clip of the photo ``name`` at the (pitch, yaw) card poses given, one frame each."""
    image = next(p for p in FACES if p.name == name).image()
    analyzer = FaceAnalyzer(VisionSettings(), FaceSettings(), ExpressionSettings())
    box = analyzer.analyze(image, 0.0).box
    analyzer.reset()
    h, w = image.shape[:2]
    centre = ((box.x + box.w / 2) * w, (box.y + box.h / 2) * h)
    cues = [analyzer.analyze(card(image, centre, p, y), i / FPS) for i, (p, y) in enumerate(poses)]
    assert all(c.face_present and c.face_id == cues[0].face_id for c in cues)
    return cues


STILL = (0.0, 0.0)


def test_a_nod_turns_the_nod_flag_on_for_the_window_and_is_not_a_shake():
    poses = [STILL] * 5 + [(15, 0), (30, 0), (15, 0)] + [STILL] * 12
    cues = clip("bearded man", poses)
    pitch = [c.head_pitch for c in cues]
    assert min(pitch[5:8]) < pitch[0] - 12                      # the head reads as tipped down, then back
    nods = [c.nod for c in cues]
    assert not any(nods[:7])
    first = nods.index(True)
    assert first in (7, 8) and all(nods[first:first + 6]) and not any(nods[first + 9:])   # on for ~1.5 s
    assert not any(c.shake for c in cues)


def test_a_head_shake_turns_the_shake_flag_on_and_is_not_a_nod():
    cues = clip("bearded man", [STILL] * 3 + [(0, -30), STILL, (0, 30), STILL] + [STILL] * 10)
    assert any(c.shake for c in cues[4:9]) and not any(c.shake for c in cues[:4])
    assert not any(c.nod for c in cues)


def test_looking_away_with_an_open_mouth_holds_the_floor_looking_back_gives_it():
    # 4 s looking at the camera (where she usually looks), 1 s looking down and away, then back.
    cues = clip("astronaut", [STILL] * 20 + [(45, 0)] * 5 + [STILL] * 3)
    held = [c.gaze_away and c.mouth_open for c in cues]
    assert held == [False] * 20 + [True] * 5 + [False] * 3
    assert all(c.mouth_open for c in cues)                      # her smile is open throughout
    assert cues[22].gaze_offset > 25 and cues[10].gaze_offset < 10


@pytest.mark.parametrize("field", ["nod", "shake", "gaze_away", "mouth_open", "blink"])
def test_the_flags_are_plain_booleans_the_turn_taker_can_read(field):
    cue = clip("bearded man", [STILL])[0]
    assert getattr(cue, field) is False
