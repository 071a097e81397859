"""Nods, head shakes, blinks and gaze aversion over time (series of head readings; the geometry behind them is
tested on real photos in test_landmarks.py and end to end in test_face_cues_clip.py)."""
import numpy as np
import pytest

from perception.face_geometry import FaceGeometry
from perception.face_motion import FaceMotionTracker, excursion
from perception.settings import FaceSettings


def geo(pitch=0.0, yaw=0.0, eyes=0.3, gaze_yaw=None, gaze_pitch=None) -> FaceGeometry:
    return FaceGeometry(eye_distance_px=60.0, pitch=pitch, yaw=yaw, roll=0.0, eye_openness=eyes, mouth_opening=0.0,
                        corner_lift=0.0, brow_raise=0.2, brow_gap=0.28, gaze_x=0.0, gaze_y=0.0,
                        gaze_yaw=yaw if gaze_yaw is None else gaze_yaw,
                        gaze_pitch=pitch if gaze_pitch is None else gaze_pitch)


def run(series, fps=5.0, **settings):
    tracker = FaceMotionTracker(FaceSettings(**settings))
    return [tracker.update(i / fps, g) for i, g in enumerate(series)]


@pytest.mark.parametrize("values, expected", [
    ([0, 0, 0], 0.0), ([0, -10, 0], 10.0), ([0, -10, -4], 6.0), ([0, 12, 2, 0], 12.0), ([0, -5, -10, -10], 0.0),
    ([3, 3], 0.0)])
def test_excursion_is_the_smaller_leg_of_an_out_and_back(values, expected):
    assert excursion(np.array(values, float)) == pytest.approx(expected)


def test_a_nod_is_pitch_down_and_back_and_stays_flagged_for_the_window():
    pitches = [0, 0, -6, -14, -5, 0, 0, 0, 0, 0, 0, 0]
    flags = [m.nod for m in run([geo(pitch=p) for p in pitches])]
    assert flags == [False] * 4 + [True] * 6 + [False] * 2          # 1.5 s window at 5 fps
    assert not any(m.shake for m in run([geo(pitch=p) for p in pitches]))


def test_looking_down_to_read_is_not_a_nod_and_turning_to_look_is_not_a_shake():
    assert not any(m.nod for m in run([geo(pitch=p) for p in (0, -8, -16, -20, -20, -20, -20)]))
    assert not any(m.shake for m in run([geo(yaw=y) for y in (0, 15, 30, 35, 35, 35)]))


def test_a_head_shake_is_yaw_out_and_back_and_only_when_yaw_dominates():
    assert any(m.shake for m in run([geo(yaw=y) for y in (0, 14, -12, 10, 0)]))
    assert not any(m.shake or m.nod for m in run([geo(pitch=p, yaw=y) for p, y in ((0, 0), (-12, 12), (0, 0))]))


def test_small_jitter_is_neither():
    rng = np.random.default_rng(0)
    moves = run([geo(pitch=rng.normal(0, 1.0), yaw=rng.normal(0, 1.0)) for _ in range(50)])
    assert not any(m.nod or m.shake for m in moves)


def test_a_blink_is_a_short_closure_reported_when_the_eyes_reopen():
    flags = [m.blink for m in run([geo(eyes=e) for e in (0.3, 0.05, 0.3, 0.3)])]
    assert flags == [False, False, True, False]
    assert not any(m.blink for m in run([geo(eyes=e) for e in (0.3, 0.05, 0.05, 0.05, 0.05, 0.3)]))   # 0.8 s: asleep?


def test_gaze_away_is_measured_from_where_the_person_usually_looks():
    # Looking 22 degrees down at a screen under the camera for 4 s is where this person looks, not away ...
    at_screen = [geo(gaze_pitch=-22.0) for _ in range(20)]
    moves = run(at_screen + [geo(gaze_pitch=-22.0, gaze_yaw=28.0), geo(gaze_pitch=-22.0)])
    assert moves[0].gaze_away                       # ... but with no history yet it is measured from the camera
    assert not moves[19].gaze_away and moves[19].gaze_offset == 0.0
    assert moves[20].gaze_away and moves[20].gaze_offset == pytest.approx(28.0)
    assert not moves[21].gaze_away


def test_reset_forgets_the_history():
    tracker = FaceMotionTracker(FaceSettings())
    for i, p in enumerate((0, -14)):
        tracker.update(i * 0.2, geo(pitch=p))
    tracker.reset()
    assert not tracker.update(0.4, geo(pitch=0)).nod
