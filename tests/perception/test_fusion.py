"""Fusion rules as a specification: cues in, the fused state over the conversation and its flags out."""
import dataclasses
import json

import pytest

from perception.fusion import EmotionFusion, label_for
from perception.sentiment import SentimentAnalyzer
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


def test_a_newer_cue_replaces_its_sources_older_one_and_the_older_turn_becomes_earlier():
    fusion = EmotionFusion(FusionSettings())
    fusion.add(words(0.8, t=0.0))
    state = fusion.add(words(-0.8, t=1.0))
    assert [(v.source, v.valence) for v in state.provenance] == [("words", -0.8), ("earlier", 0.8)]
    assert state.conflicts == ("words:negative vs earlier:positive",)


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


def said(text, t=0.0):
    return SentimentAnalyzer().analyze(text, t)


def neutral_face(t=0.0):
    return FaceCue(t, True, 1, expression="neutral", expression_confidence=0.7, smiling=False, valence=0.0)


def test_a_smile_over_sad_news_is_masking_never_joy_and_the_reason_names_the_evidence():
    state = fuse(smile(t=1.0), said("The doctor called about my results.", t=2.0))
    assert state.masking and not state.guarded
    assert state.valence < -0.25 and state.label in {"sad", "anxious"}
    assert state.conflicts == ("face:positive vs words:negative",)             # the conflict stays visible
    assert "face" in {v.source for v in state.provenance}                      # … with its provenance
    assert state.reason == "words: negative (doctor, results); face: smiling; likely masking"


def test_a_smile_only_the_landmarks_see_is_still_masking_and_each_model_is_named():
    polite = FaceCue(1.0, True, 1, expression="neutral", expression_confidence=0.6, smiling=True, valence=0.0,
                     smile=0.72, sources=("detector: blazeface-auto", "expression: fer2013"))
    state = fuse(polite, said("The doctor called about my results.", t=2.0))
    assert state.masking and state.reason.endswith("face: smiling; likely masking")
    face = next(v for v in state.provenance if v.source == "face")
    assert face.label == "smiling" and face.evidence == ("smiling", "fer2013: neutral 0.60", "landmarks: smile 0.72")


def test_good_news_with_a_smile_is_joy_not_masking():
    state = fuse(smile(t=1.0), said("I got the job I wanted!", t=2.0))
    assert not state.masking and state.label == "happy" and state.valence > 0.5
    assert state.reason == "words: positive (got the job); face: smiling"


def test_the_words_outweigh_the_face_whichever_came_last():
    fusion = EmotionFusion(FusionSettings())
    fusion.add(said("My dad passed away last month.", t=1.0))
    state = fusion.add(smile(t=3.0, conf=1.0))
    assert state.masking and state.valence < -0.25


def test_sad_news_two_turns_ago_colours_a_neutral_question_now():
    fusion = EmotionFusion(FusionSettings())
    fusion.add(neutral_face(t=0.0))
    fusion.add(said("My mom was diagnosed with cancer.", t=5.0))
    fusion.add(said("She starts treatment on Monday.", t=15.0))
    state = fusion.add(said("What do you usually do on weekends?", t=25.0))
    assert state.valence < -0.1 and state.conversation_valence < -0.2
    assert [(n.turns_ago, n.weight) for n in state.turns] == [(0, 1.0), (1, 0.5), (2, 0.25)]
    assert state.turns[2].categories == ("illness",) and "diagnosed with" in state.turns[2].evidence
    earlier = next(v for v in state.provenance if v.source == "earlier")
    assert earlier.valence < 0 and earlier.evidence[-1] == "2 turns ago"
    assert "earlier: negative (cancer, diagnosed with, 2 turns ago)" in state.reason \
        or "earlier: negative (diagnosed with, cancer, 2 turns ago)" in state.reason


def test_a_smile_after_sad_news_still_reads_as_masking_while_the_words_stay_neutral():
    fusion = EmotionFusion(FusionSettings())
    fusion.add(said("We broke up last night.", t=5.0))
    fusion.add(smile(t=14.0))
    state = fusion.add(said("Anyway, what are you up to?", t=15.0))
    assert state.masking and state.valence < 0 and state.label != "happy"


def test_news_fades_over_turns_and_is_forgotten():
    fusion = EmotionFusion(FusionSettings(turn_decay=0.5))
    fusion.add(said("My dog died this morning.", t=0.0))
    for i in range(1, 6):
        state = fusion.add(said("We talked about the weather.", t=10.0 * i))
    assert all(n.valence == 0.0 for n in state.turns) and len(state.turns) == 5   # 0.5**5 < the memory floor
    assert abs(state.valence) < 0.05 and state.conversation_valence == 0.0


def test_turn_decay_sets_how_long_a_turn_counts():
    def after_one_neutral_turn(decay):
        fusion = EmotionFusion(FusionSettings(turn_decay=decay))
        fusion.add(said("I failed my exam.", t=0.0))
        return fusion.add(said("We talked about the weather.", t=10.0))
    assert after_one_neutral_turn(0.8).valence < after_one_neutral_turn(0.3).valence < 0
    assert after_one_neutral_turn(0.0).turns == after_one_neutral_turn(0.0).turns[:1]


def test_history_weight_zero_ignores_earlier_turns_but_still_remembers_them():
    fusion = EmotionFusion(FusionSettings(history_weight=0.0))
    fusion.add(said("I failed my exam.", t=0.0))
    state = fusion.add(said("We talked about the weather.", t=10.0))
    assert "earlier" not in {v.source for v in state.provenance} and len(state.turns) == 2


def test_im_fine_with_a_sad_face_is_guarded_and_not_read_as_good_news():
    state = fuse(frown(t=1.0), said("I'm fine, everything is great.", t=2.0))
    assert state.guarded and not state.masking
    assert state.valence < -0.2 and state.label == "sad"
    assert state.reason.endswith("face: sad; reassuring words, sad face")
    plain = fuse(frown(t=1.0), said("I'm fine.", t=2.0))
    assert plain.guarded and plain.valence < -0.2


def test_good_news_with_a_sad_face_is_not_guarded():
    state = fuse(frown(t=1.0), said("I got the job!", t=2.0))
    assert not state.guarded and state.conflicts == ("face:negative vs words:positive",)


def test_a_faded_smile_is_not_masking():
    state = fuse(smile(t=0.0), said("I failed my exam.", t=40.0))
    assert not state.masking and "face" not in state.reason


def test_the_state_is_json_friendly():
    state = fuse(smile(t=1.0), said("I failed my exam.", t=2.0), said("Whatever.", t=9.0))
    record = json.loads(json.dumps(dataclasses.asdict(state)))
    assert {"masking", "guarded", "reason", "turns", "conversation_valence"} <= set(record)
    assert record["turns"][1]["evidence"] == ["failed"] and record["provenance"][-1]["source"] == "earlier"


def test_reset_forgets_the_conversation_too():
    fusion = EmotionFusion(FusionSettings())
    fusion.add(said("I failed my exam.", t=0.0))
    fusion.reset()
    state = fusion.add(said("Hello.", t=1.0))
    assert len(state.turns) == 1 and "earlier" not in {v.source for v in state.provenance}


def test_a_nearly_forgotten_turn_still_counts_a_little_but_raises_no_conflict():
    fusion = EmotionFusion(FusionSettings(turn_decay=0.5))
    fusion.add(said("My dog died this morning.", t=0.0))
    fusion.add(said("We talked about the weather.", t=10.0))
    fusion.add(said("We talked about the news.", t=20.0))
    state = fusion.add(said("I got the job!", t=30.0))
    assert any(v.source == "earlier" and v.valence < 0 for v in state.provenance)
    assert state.conflicts == ()
