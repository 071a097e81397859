"""Fusion rules as a specification: cues in, the fused state and its flags out."""
import pytest

from perception.fusion import EmotionFusion, label_for
from perception.settings import FusionSettings
from perception.types import EMOTION_LABELS, FaceCue, TextCue, VoiceCue


def smile(t=0.0, conf=0.8):
    return FaceCue(t, True, 1, expression="happiness", expression_confidence=conf, smiling=True, valence=0.7 * conf)


def frown(t=0.0):
    return FaceCue(t, True, 1, expression="sadness", expression_confidence=0.7, smiling=False, valence=-0.42)


def words(valence, t=0.0):
    return TextCue(t, "some words", valence, max(valence, 0), max(-valence, 0), 1 - abs(valence))


def voice(arousal, t=0.0):
    return VoiceCue(t, t - 1, t, -20.0, 150.0, 4.0, 2.5, 0, 0, 0, arousal)


@pytest.mark.parametrize("cues, label, valence_sign, conflict", [
    ([smile(), words(0.7)], "happy", +1, False),             # good news told with a smile
    ([smile(), words(-0.7)], None, 0, True),                   # smiling while the words are negative: flagged
    ([words(-0.6), voice(-0.5)], "sad", -1, False),            # negative words, subdued voice
    ([words(-0.7), voice(0.8)], "angry", -1, False),           # negative words, agitated voice
    ([words(-0.3), voice(0.5)], "anxious", -1, False),
    ([frown(), words(-0.5)], "sad", -1, False),
    ([voice(0.9)], "surprised", 0, False),                     # only arousal: no valence claim
    ([words(0.0)], "neutral", 0, False),
])
def test_fusion_rules(cues, label, valence_sign, conflict):
    fusion = EmotionFusion(FusionSettings())
    for cue in cues:
        state = fusion.add(cue)
    assert state.label in EMOTION_LABELS
    if label:
        assert state.label == label
    if valence_sign > 0:
        assert state.valence > 0.2
    elif valence_sign < 0:
        assert state.valence < -0.2
    assert bool(state.conflicts) is conflict
    if conflict:
        assert state.conflicts == ("face:positive vs words:negative",)
    assert {v.source for v in state.provenance} <= {"face", "voice", "words"}


def test_a_conflict_lowers_confidence():
    agree, clash = EmotionFusion(FusionSettings()), EmotionFusion(FusionSettings())
    agree.add(smile())
    clash.add(smile())
    assert clash.add(words(-0.7)).confidence < agree.add(words(0.7)).confidence


def test_old_cues_decay():
    fusion = EmotionFusion(FusionSettings(half_life_s=8.0))
    fusion.add(words(-0.8, t=0.0))
    fresh = fusion.state(0.0)
    stale = fusion.state(60.0)
    assert stale.confidence < fresh.confidence / 50
    assert next(v for v in stale.provenance if v.source == "words").weight < 0.02


def test_no_cues_is_neutral_with_zero_confidence():
    state = EmotionFusion(FusionSettings()).state(5.0)
    assert (state.label, state.confidence, state.valence, state.arousal) == ("neutral", 0.0, 0.0, 0.0)


def test_an_absent_face_says_nothing_about_feeling():
    fusion = EmotionFusion(FusionSettings())
    assert fusion.add(FaceCue(0.0, False)).confidence == 0.0


@pytest.mark.parametrize("v, a, label", [(0.6, 0.5, "happy"), (0.6, -0.6, "calm"), (-0.6, -0.4, "sad"),
                                          (-0.7, 0.6, "angry"), (-0.3, 0.5, "anxious"), (0.0, 0.8, "surprised"),
                                          (0.0, -0.6, "tired"), (0.0, 0.0, "neutral")])
def test_quadrant_labels(v, a, label):
    assert label_for(v, a) == label
