"""Face detectors (OpenCV's bundled Haar cascade on a real photo, a YuNet-shaped ONNX model built here) and the
main-face tracker."""
import cv2
import numpy as np
import pytest

from perception.face import FaceTracker, HaarFaceDetector, OnnxFaceDetector, bundled_cascade
from perception.settings import FaceSettings
from perception.types import FaceBox
from tests.perception.vision_fixtures import astronaut, two_astronauts, yunet_model


# --- Haar ---------------------------------------------------------------------------------------------------

def test_haar_finds_the_astronauts_face_in_pixels():
    boxes = HaarFaceDetector(FaceSettings()).detect(astronaut(640, 480))
    assert len(boxes) == 1
    b = boxes[0]
    assert 220 < b.x + b.w / 2 < 340 and 60 < b.y + b.h / 2 < 160   # her face: upper middle of the photo
    assert 80 < b.w < 160                                           # pixels of the frame given, not relative


def test_haar_finds_both_faces_and_puts_the_larger_first():
    boxes = HaarFaceDetector(FaceSettings(detect_width=640)).detect(two_astronauts())
    assert len(boxes) == 2
    assert boxes[0].x < 320 < boxes[1].x and boxes[0].w > boxes[1].w


def test_haar_finds_nothing_in_a_blank_frame():
    assert HaarFaceDetector(FaceSettings()).detect(np.zeros((480, 640, 3), np.uint8)) == []


def test_haar_min_size_setting_drops_small_faces():
    assert HaarFaceDetector(FaceSettings(min_size_ratio=0.6)).detect(astronaut(640, 480)) == []


def test_detectors_take_bgr_only_and_say_where_to_convert():
    with pytest.raises(ValueError, match="BGR uint8 HxWx3.*normalize_frame"):
        HaarFaceDetector(FaceSettings()).detect(np.zeros((48, 64), np.uint8))


def test_missing_cascades_name_the_opencv_5_cause(monkeypatch):
    with pytest.raises(RuntimeError, match="haarcascade_nope.xml.*opencv-python-headless<5"):
        bundled_cascade("haarcascade_nope.xml")
    monkeypatch.delattr(cv2, "data")
    with pytest.raises(RuntimeError, match="OpenCV 5 removed.*install opencv-python-headless<5"):
        HaarFaceDetector(FaceSettings())


# --- YuNet-style ONNX ---------------------------------------------------------------------------------------

def onnx_settings(path, **kw):
    return FaceSettings(detector="onnx", onnx_path=path, score_threshold=0.5, **kw)


def test_onnx_detector_decodes_anchor_boxes_and_scales_them_to_the_frame(tmp_path):
    # stride 8, row 3, col 4, centre offset (0.5, 0.5) and size 2x2 strides → centre (36, 28), 16x16 at 64x64
    path = yunet_model(tmp_path / "y.onnx", faces=((8, 3, 4, 0.9, (0.5, 0.5, np.log(2), np.log(2))),))
    boxes = OnnxFaceDetector(onnx_settings(path)).detect(np.zeros((128, 256, 3), np.uint8))
    assert len(boxes) == 1
    b = boxes[0]                       # scaled x4 horizontally, x2 vertically to the 256x128 frame
    assert (b.x, b.y, b.w, b.h) == pytest.approx((112.0, 40.0, 64.0, 32.0), abs=0.01)
    assert b.score == pytest.approx(0.9, abs=1e-4)   # sqrt(cls 0.81 * obj 1)


def test_onnx_detector_thresholds_scores_merges_overlaps_and_reads_every_stride(tmp_path):
    same = (0.5, 0.5, np.log(2), np.log(2))
    path = yunet_model(tmp_path / "y.onnx", faces=(
        (8, 3, 4, 0.9, same), (8, 3, 5, 0.8, same),          # overlapping: NMS keeps the better one
        (16, 0, 0, 0.7, (0.5, 0.5, 0.0, 0.0)),                # a second face from the stride-16 head
        (32, 1, 1, 0.4, same)))                               # under the threshold
    boxes = OnnxFaceDetector(onnx_settings(path)).detect(np.zeros((64, 64, 3), np.uint8))
    assert [round(b.score, 3) for b in boxes] == [0.9, 0.7]
    assert (boxes[1].x, boxes[1].y, boxes[1].w, boxes[1].h) == pytest.approx((0.0, 0.0, 16.0, 16.0), abs=0.01)


def test_onnx_detector_with_dynamic_input_uses_the_configured_size(tmp_path):
    path = yunet_model(tmp_path / "y.onnx", size=96, input_shape=[1, 3, "h", "w"],
                       faces=((32, 1, 1, 0.9, (0.5, 0.5, 0.0, 0.0)),))
    boxes = OnnxFaceDetector(onnx_settings(path, onnx_input_size=(96, 96))).detect(np.zeros((96, 96, 3), np.uint8))
    assert len(boxes) == 1 and (boxes[0].x, boxes[0].y) == pytest.approx((32.0, 32.0), abs=0.01)


@pytest.mark.parametrize("kw", [{"drop": "kps_16"}, {"input_shape": [1, 64, 64]}, {"input_shape": [1, 1, 64, 64]}])
def test_a_model_that_is_not_yunet_shaped_fails_at_load_naming_what_is_expected(tmp_path, kw):
    path = yunet_model(tmp_path / "bad.onnx", **kw)
    with pytest.raises(ValueError) as err:
        OnnxFaceDetector(onnx_settings(path))
    message = str(err.value)
    assert "\n" not in message and "bad.onnx" in message
    assert "one float input [1,3,H,W]" in message and "cls_8[1,N,1]" in message and "kps_32[1,N,10]" in message


def test_a_fixed_input_that_does_not_fit_the_anchor_grid_is_refused(tmp_path):
    with pytest.raises(ValueError, match="fixed input 48x48 is not a multiple of 32"):
        OnnxFaceDetector(onnx_settings(yunet_model(tmp_path / "y.onnx", size=48)))


@pytest.mark.parametrize("given, problem", [
    ("none.onnx", "no such ONNX model file"),
    ("junk.onnx", "not a loadable ONNX model ([ONNXRuntimeError]"),   # onnxruntime's own exception, as one line
    ("folder", "is a folder, not an ONNX model file"),
    ("bad.onnx", "expected a YuNet-style face detector"),
])
def test_every_unusable_detector_file_is_one_line_naming_the_setting_and_the_path(tmp_path, given, problem):
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    (tmp_path / "folder").mkdir()
    yunet_model(tmp_path / "bad.onnx", drop="kps_16")
    path = tmp_path / given
    with pytest.raises((OSError, ValueError)) as err:
        OnnxFaceDetector(onnx_settings(str(path)))
    assert str(err.value).startswith(f"face.onnx_path: {path}: {problem}") and "\n" not in str(err.value)
    with pytest.raises(FileNotFoundError, match="^face.onnx_path is empty: name an ONNX model file$"):
        OnnxFaceDetector(onnx_settings(""))


# --- tracker ------------------------------------------------------------------------------------------------

def box(cx, cy, side=0.2):
    return FaceBox(cx - side / 2, cy - side / 2, side, side)


def test_the_main_face_keeps_its_id_while_it_moves_and_its_motion_is_measured():
    tracker = FaceTracker(FaceSettings())
    ids, motions = [], []
    for i in range(5):                                          # moves 0.02 frame widths every 0.2 s: 0.1 per s
        track = tracker.update([box(0.3 + 0.02 * i, 0.4)], i * 0.2)
        ids.append(track.face_id)
        motions.append(track.motion)
    assert ids == [1] * 5
    assert motions[0] == 0.0 and 0.05 < motions[-1] <= 0.1 and motions == sorted(motions)


def test_a_still_face_has_no_motion():
    tracker = FaceTracker(FaceSettings())
    assert [tracker.update([box(0.5, 0.5)], t).motion for t in (0.0, 0.2, 0.4)] == pytest.approx([0.0] * 3, abs=1e-9)


def test_a_brief_miss_keeps_the_face_and_a_long_one_loses_it():
    tracker = FaceTracker(FaceSettings(lost_after_s=1.0))
    tracker.update([box(0.5, 0.5)], 0.0)
    missed = tracker.update([], 0.6)
    assert missed.face_id == 1 and not missed.seen
    assert tracker.update([], 1.2) is None
    assert tracker.update([box(0.5, 0.5)], 1.4).face_id == 2    # back after being lost: a new id


def test_another_face_does_not_take_over_while_the_main_one_is_briefly_unseen():
    tracker = FaceTracker(FaceSettings(lost_after_s=1.0))
    tracker.update([box(0.3, 0.5)], 0.0)
    other = tracker.update([box(0.8, 0.5, side=0.3)], 0.4)
    assert other.face_id == 1 and not other.seen and other.box.x < 0.5
    taken = tracker.update([box(0.8, 0.5, side=0.3)], 1.5)
    assert taken.face_id == 2 and taken.seen and taken.box.x > 0.5


@pytest.mark.parametrize("main_face, expected_x", [("largest", 0.1), ("central", 0.45)])
def test_the_main_face_is_the_largest_or_the_most_central(main_face, expected_x):
    tracker = FaceTracker(FaceSettings(main_face=main_face))
    track = tracker.update([box(0.2, 0.3, side=0.2), box(0.5, 0.5, side=0.1)], 0.0)
    assert track.box.x == pytest.approx(expected_x)


def test_reset_forgets_the_face_but_never_reuses_its_id():
    tracker = FaceTracker(FaceSettings())
    tracker.update([box(0.5, 0.5)], 0.0)
    tracker.reset()
    assert tracker.update([box(0.5, 0.5)], 0.1).face_id == 2
