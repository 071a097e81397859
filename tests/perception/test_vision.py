"""Faces and expressions on real images (scikit-image's astronaut) and tiny ONNX models built here."""
import time

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from skimage import data

from perception.expression import AFFECTNET_CLASSES, OnnxExpressionClassifier
from perception.face import OnnxFaceDetector
from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
from perception.vision import FaceAnalyzer, normalize_frame


@pytest.fixture(scope="module")
def astronaut():
    return cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (640, 480))


def analyzer(**face):
    return FaceAnalyzer(VisionSettings(), FaceSettings(**face), ExpressionSettings())


def test_finds_the_astronauts_smiling_face(astronaut):
    cue = analyzer().analyze(astronaut, 0.0)
    assert cue.face_present and cue.faces == 1 and cue.face_id == 1
    assert 0.25 < cue.box.x + cue.box.w / 2 < 0.6 and cue.box.y < 0.4    # upper middle of the photo
    assert cue.expression == "happiness" and cue.smiling and cue.valence > 0


@pytest.mark.parametrize("convert", [
    lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2GRAY),
    lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2BGRA),
    lambda im: cv2.resize(im, (641, 479)),
    lambda im: cv2.resize(im, (1280, 960)),
    lambda im: im.astype(np.float32) / 255.0,
])
def test_any_frame_layout_works(astronaut, convert):
    assert analyzer().analyze(convert(astronaut), 0.0).face_present


def test_normalize_rejects_what_is_not_an_image():
    with pytest.raises(ValueError, match="not an image"):
        normalize_frame(np.zeros((0, 5), np.uint8), 640)
    with pytest.raises(ValueError, match="5 channels"):
        normalize_frame(np.zeros((4, 4, 5), np.uint8), 640)


def test_no_face_then_lost_after_the_timeout(astronaut):
    a = analyzer(lost_after_s=1.0)
    assert a.analyze(astronaut, 0.0).face_present
    blank = np.zeros((480, 640, 3), np.uint8)
    assert a.analyze(blank, 0.5).face_present             # briefly unseen: still tracked
    assert not a.analyze(blank, 1.6).face_present         # gone
    assert a.analyze(astronaut, 2.0).face_id == 2         # a new appearance gets a new id


def test_two_faces_counted_and_the_main_face_id_stays_stable(astronaut):
    left = astronaut[:, 120:440]                          # the larger face
    right = np.full((480, 320, 3), 90, np.uint8)
    right[60:420] = cv2.resize(astronaut, (480, 360))[:, 90:410]
    a = FaceAnalyzer(VisionSettings(), FaceSettings(detect_width=640), ExpressionSettings())
    cues = [a.analyze(np.hstack([np.roll(left, dx, axis=1), right]), i * 0.2) for i, dx in enumerate((0, 6, 12, 18))]
    assert max(c.faces for c in cues) == 2
    assert {c.face_id for c in cues} == {1}               # one track throughout, even if a frame misses it
    assert all(c.box.x < 0.5 for c in cues)               # the larger (left) face is the main one
    assert cues[-1].motion > 0                            # it moved right a little each frame
    assert a.analyze(np.full((480, 640, 3), 90, np.uint8), 3.0).face_present is False


def test_resolution_change_mid_stream(astronaut):
    a = analyzer()
    assert a.analyze(astronaut, 0.0).face_present
    assert a.analyze(cv2.resize(astronaut, (320, 240)), 0.2).face_id == 1


def test_face_and_expression_run_at_ten_frames_per_second_or_more(astronaut):
    a = analyzer()
    a.analyze(astronaut, 0.0)
    t0 = time.perf_counter()
    for i in range(20):
        a.analyze(astronaut, i * 0.2)
    per_frame = (time.perf_counter() - t0) / 20
    assert per_frame < 0.1  # 10 fps; loose for a loaded machine (measured ~20 ms idle)


def save(model, path):
    onnx.save(model, str(path))
    return str(path)


def classifier_model(path, size=64, classes=8, bias_index=6):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])
    w = helper.make_tensor("W", TensorProto.FLOAT, [3, classes], [0.0] * (3 * classes))
    b = helper.make_tensor("B", TensorProto.FLOAT, [classes], [5.0 if i == bias_index else 0.0 for i in range(classes)])
    nodes = [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["flat"]),
             helper.make_node("Gemm", ["flat", "W", "B"], ["logits"])]
    graph = helper.make_graph(nodes, "expr", [x], [y], initializer=[w, b])
    return save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_onnx_expression_classifier_by_path(tmp_path, astronaut):
    settings = ExpressionSettings(backend="onnx", onnx_path=classifier_model(tmp_path / "e.onnx"), input_size=64)
    model = OnnxExpressionClassifier(settings)
    scores = model.scores(astronaut[40:240, 200:360])
    assert scores.shape == (8,) and scores.sum() == pytest.approx(1.0, abs=1e-5)
    assert AFFECTNET_CLASSES[int(np.argmax(scores))] == "sadness"
    cue = FaceAnalyzer(VisionSettings(), FaceSettings(), settings).analyze(astronaut, 0.0)
    assert cue.expression == "sadness" and cue.valence < 0


def test_onnx_classifier_with_wrong_shapes_fails_at_load_naming_them(tmp_path):
    bad = classifier_model(tmp_path / "bad.onnx", classes=5)
    with pytest.raises(ValueError, match=r"expected one input \[1,3,64,64\].*output \[1,8\]"):
        OnnxExpressionClassifier(ExpressionSettings(backend="onnx", onnx_path=bad, input_size=64))
    other_size = classifier_model(tmp_path / "s.onnx", size=48)
    with pytest.raises(ValueError, match="takes 48x48 inputs but expression.input_size is 64"):
        OnnxExpressionClassifier(ExpressionSettings(backend="onnx", onnx_path=other_size, input_size=64))
    with pytest.raises(FileNotFoundError, match="no such ONNX model"):
        OnnxExpressionClassifier(ExpressionSettings(backend="onnx", onnx_path=str(tmp_path / "none.onnx")))


def yunet_model(path, size=64, outputs=True):
    """A YuNet-shaped graph whose outputs are constants: one face at stride-8 anchor (row 3, col 4)."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    nodes, outs = [helper.make_node("Identity", ["input"], ["echo"])], [
        helper.make_tensor_value_info("echo", TensorProto.FLOAT, [1, 3, size, size])]
    for stride in (8, 16, 32):
        n = (size // stride) ** 2
        cls = np.zeros((1, n, 1), np.float32)
        box = np.zeros((1, n, 4), np.float32)
        if stride == 8:
            k = 3 * (size // 8) + 4
            cls[0, k, 0] = 0.9
            box[0, k] = [0.5, 0.5, np.log(2.0), np.log(2.0)]
        values = {"cls": cls, "obj": cls.copy(), "bbox": box, "kps": np.zeros((1, n, 10), np.float32)}
        for kind, arr in values.items():
            if not outputs and kind == "kps":
                continue
            name = f"{kind}_{stride}"
            nodes.append(helper.make_node("Constant", [], [name], value=helper.make_tensor(
                name + "_v", TensorProto.FLOAT, arr.shape, arr.reshape(-1).tolist())))
            outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(arr.shape)))
    graph = helper.make_graph(nodes, "yunet", [x], outs)
    return save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_onnx_face_detector_decodes_yunet_outputs(tmp_path):
    settings = FaceSettings(detector="onnx", onnx_path=yunet_model(tmp_path / "y.onnx"), score_threshold=0.5)
    boxes = OnnxFaceDetector(settings).detect(np.zeros((128, 128, 3), np.uint8))
    assert len(boxes) == 1
    b = boxes[0]  # centre (36, 28), 16x16 px at 64x64 → scaled x2 to the 128x128 frame
    assert (b.x, b.y, b.w, b.h) == pytest.approx((56.0, 40.0, 32.0, 32.0), abs=0.5)
    assert b.score == pytest.approx(0.9, abs=1e-4)
    cue = FaceAnalyzer(VisionSettings(), settings, ExpressionSettings(backend="none")).analyze(
        np.zeros((128, 128, 3), np.uint8), 0.0)
    assert cue.face_present and cue.box.x == pytest.approx(56 / 128, abs=0.01)


def test_onnx_face_detector_with_wrong_outputs_fails_naming_the_expected_ones(tmp_path):
    bad = yunet_model(tmp_path / "bad.onnx", outputs=False)
    with pytest.raises(ValueError, match=r"expected a YuNet-style face detector .* kps_8"):
        OnnxFaceDetector(FaceSettings(detector="onnx", onnx_path=bad))
