"""The face pipeline on a labelled set of real photographs (tests/perception/face_photos.py): every face found,
no face where there is none, smiles told from straight faces, turned heads told from frontal ones."""
import pytest

from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
from perception.vision import FaceAnalyzer
from tests.perception.face_photos import FACES, NO_FACES

TURNED_DEG = 25.0


@pytest.fixture(scope="module")
def analyzer():
    return FaceAnalyzer(VisionSettings(), FaceSettings(), ExpressionSettings())


def look(analyzer, photo):
    analyzer.reset()
    return analyzer.analyze(photo.image(), 0.0)


@pytest.mark.parametrize("photo", FACES, ids=lambda p: p.name)
def test_every_face_is_found(analyzer, photo):
    cue = look(analyzer, photo)
    assert cue.face_present and cue.faces == photo.faces
    assert 0.5 <= cue.box.score < 1.0 and len(cue.points) > 0


@pytest.mark.parametrize("photo", NO_FACES, ids=lambda p: p.name)
def test_no_face_is_found_where_there_is_none(analyzer, photo):
    cue = look(analyzer, photo)
    assert not cue.face_present and cue.faces == 0


@pytest.mark.parametrize("photo", [p for p in FACES if p.smiling is not None], ids=lambda p: p.name)
def test_smiles_are_told_from_straight_faces(analyzer, photo):
    cue = look(analyzer, photo)
    assert cue.smiling == photo.smiling
    assert (cue.expression == "happiness") == photo.smiling          # the classifier agrees with the landmarks
    assert (cue.smile >= 0.5) == photo.smiling


@pytest.mark.parametrize("photo", [p for p in FACES if p.turned is not None], ids=lambda p: p.name)
def test_turned_heads_are_told_from_frontal_ones(analyzer, photo):
    cue = look(analyzer, photo)
    turned = max(abs(cue.head_yaw), abs(cue.head_pitch)) >= TURNED_DEG
    assert turned == photo.turned
