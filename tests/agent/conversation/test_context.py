"""The rolling context: keyframes chosen on visual change, bounded by age, count and bytes; the brain's view."""
import numpy as np

from agent.conversation.context import KeyframeSelector, RollingContext
from dialogue.memory import DialogueMemory
from dialogue.types import DialogueTurn
from perception.settings import ContextSettings
from perception.types import EmotionState, FaceCue, TextCue, Transcript


def frame(level, h=120, w=160):
    return np.full((h, w, 3), level, np.uint8)


def context(**kw):
    s = ContextSettings(**kw)
    return RollingContext(s, DialogueMemory(2000, keep_recent=s.history_turns)), KeyframeSelector(s)


def test_keyframes_are_chosen_on_visual_change_not_every_frame():
    _, sel = context(keyframe_min_gap_s=0.0, keyframe_change=0.05)
    picks = [sel.wants(frame(v), t) for t, v in enumerate([10, 12, 11, 200, 201, 30])]
    assert picks == [True, False, False, True, False, True]


def test_keyframes_respect_the_minimum_gap_and_any_frame_layout():
    _, sel = context(keyframe_min_gap_s=1.0, keyframe_change=0.0)
    assert sel.wants(frame(0), 0.0) and not sel.wants(frame(255), 0.5) and sel.wants(frame(255), 1.2)
    gray, bgra = np.zeros((61, 83), np.uint8), np.zeros((61, 83, 4), np.uint8)
    for image in (gray, bgra, frame(9, 1080, 1920)):
        kf = sel.encode(image, 3.0)
        assert kf.jpeg[:2] == b"\xff\xd8" and max(kf.width, kf.height) <= 448


def test_the_context_is_bounded_by_age_count_and_bytes():
    ctx, sel = context(window_s=10.0, max_keyframes=3, keyframe_change=0.0, keyframe_min_gap_s=0.0,
                       max_bytes=100_000, max_utterances=2)
    rng = np.random.default_rng(0)
    for t in range(8):
        ctx.add_keyframe(sel.encode(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), float(t)))
    assert len(ctx.keyframes) <= 3 and ctx.keyframes[-1].t == 7.0
    for t in range(4):
        ctx.add_utterance(Transcript(f"u{t}", t, t + 1.0), np.zeros(8000, np.int16))
    assert [u.transcript.text for u in ctx.utterances] == ["u2", "u3"]
    assert ctx.bytes_used <= 100_000
    ctx.add_cue(TextCue(100.0, "late", 0.0, 0, 0, 1))
    assert all(c.t >= 90.0 for c in ctx.cues) and not ctx.keyframes


def test_the_view_holds_recent_keyframes_utterance_cue_summary_and_history():
    ctx, sel = context(view_keyframes=2, keyframe_change=0.0, keyframe_min_gap_s=0.0)
    for t in range(4):
        ctx.add_keyframe(sel.encode(frame(t * 60), float(t)))
    ctx.add_cue(FaceCue(1.0, True, 1, expression="happiness"))
    ctx.add_cue(TextCue(2.0, "I'm sad", -0.6, 0, 0.7, 0.3))
    ctx.add_cue(EmotionState(2.0, -0.3, 0.1, "sad", 0.6, conflicts=("face:positive vs words:negative",)))
    ctx.add_turn(DialogueTurn("user", "I'm sad", 2.0))
    ctx.add_turn(DialogueTurn("agent", "I'm sorry to hear that.", 3.0))
    audio = np.ones(1600, np.int16)
    view = ctx.view(4.0, "end_of_turn", Transcript("I'm sad", 1.0, 2.0), audio)
    assert [k.t for k in view.keyframes] == [2.0, 3.0]
    assert view.utterance_audio is audio and view.transcript.text == "I'm sad"
    assert "face: visible, happiness" in view.cue_summary and "words: negative" in view.cue_summary
    assert "conflict: face:positive vs words:negative" in view.cue_summary
    assert [t.role for t in view.history] == ["user", "agent"]


def test_the_view_summarises_this_turns_cues_with_their_evidence_not_the_last_committed_ones():
    from perception.sentiment import SentimentAnalyzer

    ctx, _ = context()
    ctx.add_cue(FaceCue(1.0, True, 1, expression="happiness", smiling=True, valence=0.56))
    ctx.add_cue(TextCue(2.0, "Nice weather.", 0.4, 0.4, 0, 0.6))
    words = SentimentAnalyzer().analyze("The doctor called about my results.", 9.0)
    state = EmotionState(9.0, -0.4, 0.0, "sad", 0.4, masking=True, conflicts=("face:positive vs words:negative",))
    view = ctx.view(9.5, "end_of_turn", Transcript(words.text, 7.0, 9.0), text_cue=words, emotion=state)
    assert "words: negative (-0.59: doctor, results)" in view.cue_summary
    assert "likely masking" in view.cue_summary and "Nice weather" not in view.cue_summary
