"""Face mesh, irises and the geometric cues read from them, on real photographs."""
import math

import cv2
import numpy as np
import pytest

from perception.blazeface import BlazeFaceDetector
from perception.face_geometry import face_axes, head_angles, measure, smile_score
from perception.face_mesh import FaceMesh, Roi, roi_from_detection, roi_from_landmarks
from perception.settings import FaceSettings
from tests.perception.face_photos import FACES


@pytest.fixture(scope="module")
def read():
    """``read(bgr)`` -> the 478 landmarks of the best face (and its mesh probability), as the analyser gets them."""
    detector, mesh = BlazeFaceDetector(FaceSettings()), FaceMesh()

    def _read(bgr: np.ndarray):
        d = detector.detections(bgr)[0]
        face = mesh.landmarks(bgr, roi_from_detection((d.box.x, d.box.y, d.box.w, d.box.h), d.keypoints[:2]))
        return mesh.with_irises(bgr, face)

    return _read


def photo(name: str) -> np.ndarray:
    return next(p for p in FACES if p.name == name).image()


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """The photo turned clockwise in the image plane: a real face with its head rolled by ``degrees``."""
    h, w = image.shape[:2]
    return cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0), (w, h),
                          borderMode=cv2.BORDER_REPLICATE)


def test_a_crop_maps_back_to_the_image_it_came_from():
    roi = Roi(120.0, 80.0, 64.0, math.radians(30))
    points = np.array([[0.0, 0.0, 5.0], [192.0, 96.0, -2.0], [40.0, 150.0, 0.0]])
    forward = roi.to_crop(192)
    back = roi.to_image(points, 192)
    assert np.allclose(forward @ np.c_[back[:, :2], np.ones(3)].T, points[:, :2].T, atol=1e-9)
    assert back[0, 2] == pytest.approx(5.0 * 64 / 192)                 # depth scales like x and y


def test_the_mesh_lands_on_the_face_with_both_irises_inside_their_eyes(read):
    face = read(photo("astronaut"))
    points = face.points
    assert points.shape == (478, 3) and face.presence > 0.9
    for iris, (outer, inner) in ((468, (33, 133)), (473, (263, 362))):
        lo, hi = sorted((points[outer, 0], points[inner, 0]))
        assert lo < points[iris, 0] < hi
        assert abs(points[iris, 1] - points[outer, 1]) < 0.3 * (hi - lo)
    assert points[33, 0] < points[263, 0] and points[10, 1] < points[1, 1] < points[152, 1]   # upright


def test_a_crop_that_follows_the_mesh_is_level_with_the_eyes(read):
    roi = roi_from_landmarks(read(rotate(photo("bearded man"), 20)).points)
    assert math.degrees(roi.angle) == pytest.approx(20 - 3.5, abs=3)   # the photo's own roll is -3.5


@pytest.mark.parametrize("degrees", [-25, -10, 10, 25])
def test_head_roll_follows_a_real_photo_turned_in_the_image_plane(read, degrees):
    upright = measure(read(photo("bearded man")).points)
    turned = measure(read(rotate(photo("bearded man"), degrees)).points)
    assert turned.roll - upright.roll == pytest.approx(degrees, abs=3)
    # Everything measured in the face's own frame stays put.
    assert turned.yaw == pytest.approx(upright.yaw, abs=4) and turned.pitch == pytest.approx(upright.pitch, abs=4)
    assert turned.corner_lift == pytest.approx(upright.corner_lift, abs=0.01)


def test_head_angles_recover_a_known_rotation_of_real_landmarks(read):
    """Plumbing: the astronaut's own 3-D mesh, turned about its own axes by known angles, reads them back."""
    points = read(photo("astronaut")).points.astype(np.float64)
    axes = face_axes(points)
    base = head_angles(axes)
    turn, tip = math.radians(25), math.radians(-15)      # nose toward the image's left, then up
    ry = np.array([[math.cos(turn), 0, math.sin(turn)], [0, 1, 0], [-math.sin(turn), 0, math.cos(turn)]])
    rx = np.array([[1, 0, 0], [0, math.cos(tip), -math.sin(tip)], [0, math.sin(tip), math.cos(tip)]])
    centre = points.mean(0)
    turned = (points - centre) @ (axes @ ry @ rx @ axes.T).T + centre
    pitch, yaw, _ = head_angles(face_axes(turned))
    assert yaw - base[1] == pytest.approx(-25, abs=2) and pitch - base[0] == pytest.approx(15, abs=2)


def test_a_mirrored_photo_turns_the_head_and_the_gaze_the_other_way(read):
    camera = photo("cameraman")
    right, left = measure(read(camera).points), measure(read(camera[:, ::-1].copy()).points)
    assert right.yaw > 25 and left.yaw == pytest.approx(-right.yaw, abs=4)
    assert right.gaze_yaw > 40 and left.gaze_yaw < -40                   # he looks off to the side either way


def test_eyes_follow_the_camera_when_the_head_turns_but_not_when_they_look_aside(read):
    bearded, smiling = measure(read(photo("bearded man")).points), measure(read(photo("smiling man")).points)
    # Both heads turn ~13-16 degrees to the image's left; his eyes come back to the camera, the smiler's don't.
    assert bearded.yaw < -12 and abs(bearded.gaze_yaw) < 6
    assert smiling.yaw < -10 and smiling.gaze_yaw < -20


def test_geometry_does_not_depend_on_the_distance_to_the_camera(read):
    image = photo("astronaut")
    near, far = measure(read(image).points), measure(read(cv2.resize(image, (256, 256))).points)
    assert far.eye_distance_px == pytest.approx(near.eye_distance_px / 2, rel=0.05)
    for name in ("mouth_opening", "corner_lift", "eye_openness", "brow_raise", "brow_gap"):
        assert getattr(far, name) == pytest.approx(getattr(near, name), abs=0.03), name


@pytest.mark.parametrize("p", [p for p in FACES if p.smiling is not None and p.faces == 1], ids=lambda p: p.name)
def test_the_landmarks_alone_tell_a_smile_from_a_straight_face(read, p):
    geo = measure(read(p.image()).points)
    assert (smile_score(geo.corner_lift) >= 0.5) == p.smiling
    assert 0.2 < geo.eye_openness < 0.4                                    # every one of them has open eyes


def test_an_open_smile_opens_the_mouth_and_a_closed_one_does_not(read):
    assert measure(read(photo("astronaut")).points).mouth_opening > 0.08
    assert measure(read(photo("bearded man")).points).mouth_opening < 0.02
