"""Fusion rules as a specification: cues in, the fused state and its flags out."""
import pytest

from perception.fusion import EmotionFusion, label_for
from perception.settings import FusionSettings
from perception.types import EMOTION_LABELS, FaceCue, TextCue, VoiceCue


def smile(t=0.0, conf=0.8):
    return FaceCue(t, True, 1, expression="happiness", expression_confidence=conf, smiling=True, valence=0.7 * conf)


def frown(t=0.0):
    return FaceCue(t, True, 1, expression="sadness", expression_confidence=0.7, smiling=False, valence=-0.42)


def startled(t=0.0):
    return FaceCue(t, True, 1, expression="surprise", expression_confidence=0.9, smiling=False, valence=0.09)


def words(valence, t=0.0):
    return TextCue(t, "some words", valence, max(valence, 0), max(-valence, 0), 1 - abs(valence))


def voice(arousal, t=0.0):
    return VoiceCue(t, t - 1.5, t, -20.0, 150.0, 4.0, 2.5, 0, 0, 0, arousal)


def fuse(*cues, settings=None):
    fusion = EmotionFusion(settings or FusionSettings())
    states = [fusion.add(cue) for cue in cues]
    return states[-1]


@pytest.mark.parametrize("cues, label, valence_sign, conflict", [
    ([smile(), words(0.7)], {"happy"}, +1, False),               # good news told with a smile
    ([smile(), words(-0.7)], set(EMOTION_LABELS), 0, True),       # smiling while the words are negative: flagged
    ([words(-0.7), smile()], set(EMOTION_LABELS), 0, True),       # the same, whichever came first
    ([words(-0.6), voice(-0.5)], {"sad"}, -1, False),             # negative words, subdued voice
    ([words(-0.7), voice(0.8)], {"angry", "anxious"}, -1, False),  # negative words, agitated voice
    ([words(-0.3), voice(0.5)], {"anxious"}, -1, False),
    ([frown(), words(-0.5)], {"sad"}, -1, False),                 # a sad face agrees with sad words
    ([voice(0.9)], {"surprised"}, 0, False),                      # arousal alone makes no valence claim
    ([voice(-0.7)], {"tired"}, 0, False),
    ([words(0.6), voice(-0.6)], {"calm"}, +1, False),
    ([words(0.0)], {"neutral"}, 0, False),
])
def test_fusion_rules(cues, label, valence_sign, conflict):
    state = fuse(*cues)
    assert state.label in label and state.label in EMOTION_LABELS
    if valence_sign > 0:
        assert state.valence > 0.2
    elif valence_sign < 0:
        assert state.valence < -0.2
    elif not conflict:
        assert abs(state.valence) < 0.1
    assert state.conflicts == (("face:positive vs words:negative",) if conflict else ())
    assert {v.source for v in state.provenance} == {type_source(c) for c in cues}
    assert 0.0 < state.confidence <= 1.0


def type_source(cue):
    return {FaceCue: "face", VoiceCue: "voice", TextCue: "words"}[type(cue)]


def test_a_conflict_lowers_confidence_and_agreement_raises_it():
    agree, clash = fuse(smile(), words(0.7)), fuse(smile(), words(-0.7))
    assert clash.confidence < agree.confidence / 1.5
    assert fuse(smile(), words(0.7)).confidence > fuse(words(0.7)).confidence   # a second witness helps


def test_arousal_comes_mostly_from_the_voice_and_is_nudged_by_the_face():
    calm_voice_startled_face = fuse(startled(), voice(-0.5))
    assert calm_voice_startled_face.arousal < 0                   # voice outweighs the face
    assert fuse(startled()).arousal > 0.5                          # a surprised face alone does raise it
    assert fuse(smile()).valence > 0.2 and fuse(smile()).label == "happy"


def test_old_cues_decay():
    fusion = EmotionFusion(FusionSettings(half_life_s=8.0))
    fresh = fusion.add(words(-0.8, t=0.0))
    half = fusion.state(8.0)
    stale = fusion.state(60.0)
    assert next(v for v in half.provenance if v.source == "words").weight == pytest.approx(
        next(v for v in fresh.provenance if v.source == "words").weight / 2, rel=0.01)
    assert stale.confidence < fresh.confidence / 50
    assert fresh.label == "sad" and stale.label == "neutral"      # a faded cue cannot set the label alone
    assert next(v for v in stale.provenance if v.source == "words").weight < 0.02


def test_a_fresh_cue_outweighs_an_old_one():
    fusion = EmotionFusion(FusionSettings(half_life_s=8.0))
    fusion.add(smile(t=0.0))
    state = fusion.add(words(-0.7, t=30.0))
    assert state.valence < -0.5 and state.label == "sad"
    assert state.conflicts == ()                                   # a smile 30 s ago no longer contradicts


def test_a_newer_cue_replaces_its_sources_older_one():
    fusion = EmotionFusion(FusionSettings())
    fusion.add(words(0.8, t=0.0))
    state = fusion.add(words(-0.8, t=1.0))
    assert [v.valence for v in state.provenance] == [-0.8] and state.conflicts == ()


def test_no_cues_is_neutral_with_zero_confidence():
    state = EmotionFusion(FusionSettings()).state(5.0)
    assert (state.label, state.confidence, state.valence, state.arousal, state.provenance, state.conflicts) == (
        "neutral", 0.0, 0.0, 0.0, (), ())


def test_an_absent_face_or_empty_words_say_nothing_about_feeling():
    fusion = EmotionFusion(FusionSettings())
    assert fusion.add(FaceCue(0.0, False)).confidence == 0.0
    assert fusion.add(TextCue(0.0, "  ", 0.0, 0.0, 0.0, 1.0)).confidence == 0.0


def test_zero_weight_silences_a_source():
    state = fuse(smile(), words(-0.7), settings=FusionSettings(face_weight=0.0))
    assert [v.source for v in state.provenance] == ["words"] and state.conflicts == ()


def test_reset_forgets_every_cue():
    fusion = EmotionFusion(FusionSettings())
    fusion.add(words(-0.8))
    fusion.reset()
    assert fusion.state(0.0).confidence == 0.0


def test_what_is_not_a_cue_is_refused():
    with pytest.raises(TypeError, match="not a cue: str"):
        EmotionFusion(FusionSettings()).add("sad")  # type: ignore[arg-type]


@pytest.mark.parametrize("v, a, label", [(0.6, 0.5, "happy"), (0.6, -0.6, "calm"), (-0.6, -0.4, "sad"),
                                          (-0.7, 0.6, "angry"), (-0.3, 0.5, "anxious"), (0.0, 0.8, "surprised"),
                                          (0.0, -0.6, "tired"), (0.0, -0.3, "calm"), (0.0, 0.0, "neutral")])
def test_quadrant_labels(v, a, label):
    assert label_for(v, a) == label
