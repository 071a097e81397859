"""The demo's photo, warped into a pose, reads through the project's own face cue path as what it was posed to show:
a straight face at rest, a smile or a frown, a nod's lifted chin, a head shake's turn, looking down with the mouth
open."""
import numpy as np
import pytest

from agent.demo.acting import EXPRESSIONS, LOOK_AWAY, NOD_DEG, SHAKE_DEG
from agent.demo.conversation import demo_face
from agent.demo.puppet import Pose, Puppet
from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
from perception.types import FaceCue
from perception.vision import FaceAnalyzer


@pytest.fixture(scope="module")
def puppet() -> Puppet:
    return Puppet(demo_face())


def read(image: np.ndarray) -> FaceCue:
    """The face cue of a still image, as the session reads a camera at 5 fps (a few frames: expressions smooth)."""
    analyzer = FaceAnalyzer(VisionSettings(), FaceSettings(), ExpressionSettings())
    for k in range(4):
        cue = analyzer.analyze(image, k * 0.2)
    return cue


@pytest.fixture(scope="module")
def rest(puppet: Puppet) -> FaceCue:
    return read(puppet.render(Pose()))


def test_at_rest_the_photo_is_a_straight_face_looking_into_the_camera(rest: FaceCue):
    assert rest.face_present and rest.smile < 0.5 and not rest.smiling and not rest.mouth_open
    assert abs(rest.head_pitch) < 5 and abs(rest.head_yaw) < 5


def test_the_expressions_move_the_smile_the_way_the_story_needs(puppet: Puppet, rest: FaceCue):
    smiles = {name: read(puppet.render(EXPRESSIONS[name])) for name in ("worried", "nervous smile", "beaming")}
    assert smiles["worried"].smile < rest.smile and not smiles["worried"].smiling
    assert smiles["nervous smile"].smiling and smiles["nervous smile"].smile >= 0.6
    assert smiles["beaming"].smile >= 0.8 and smiles["beaming"].expression == "happiness"


def test_a_nod_and_a_shake_turn_the_head_past_what_the_cue_path_counts(puppet: Puppet, rest: FaceCue):
    settings = FaceSettings()
    nod = read(puppet.render(Pose(pitch=NOD_DEG)))
    shake = read(puppet.render(Pose(yaw=SHAKE_DEG)))
    assert nod.head_pitch - rest.head_pitch >= settings.nod_min_deg
    assert shake.head_yaw - rest.head_yaw >= settings.shake_min_deg
    assert abs(nod.gaze_pitch - rest.gaze_pitch) < settings.gaze_away_deg     # a nod is not looking away


def test_looking_away_reads_as_gaze_turned_away_with_the_mouth_open(puppet: Puppet, rest: FaceCue):
    away = read(puppet.render(LOOK_AWAY))
    turned = np.hypot(away.gaze_yaw - rest.gaze_yaw, away.gaze_pitch - rest.gaze_pitch)
    assert turned >= FaceSettings().gaze_away_deg and away.mouth_open


def test_a_pose_held_over_many_frames_is_warped_once(puppet: Puppet):
    assert puppet.render(Pose(smile=0.05)) is puppet.render(Pose(smile=0.05 + 1e-6))
