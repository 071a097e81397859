"""The reasoning prompt: what each trigger puts in it, media by settings, the format instructions, its speed."""
from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from dialogue.prompt import SYSTEM_PROMPT, build_prompt
from dialogue.settings import BrainSettings
from dialogue.types import AGENT_EMOTIONS, DECISIONS, BrainView, DialogueTurn, Keyframe
from perception.types import EmotionState, Transcript, TurnNote


def jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG")
    return buf.getvalue()


FRAMES = tuple(Keyframe(t=10.0 + i * 0.5, jpeg=jpeg(i), width=64, height=48) for i in range(8))
AUDIO = np.zeros(16000, dtype=np.int16)
SAD = EmotionState(t=12.0, valence=-0.62, arousal=0.31, label="sad", confidence=0.7,
                   conflicts=("face:positive vs words:negative",))
HISTORY = (DialogueTurn("user", "I had a rough week.", 1.0), DialogueTurn("agent", "I'm sorry to hear that.", 2.0,
                                                                       interrupted=True))


def view(**kw: object) -> BrainView:
    base: dict[str, object] = dict(
        t=14.0, trigger="end_of_turn", transcript=Transcript("My cat is sick and I'm scared.", 11.0, 13.5),
        utterance_audio=AUDIO, keyframes=FRAMES, cue_summary="face: visible, smiling; words: negative (-0.62)",
        emotion=SAD, history=HISTORY, history_summary="The user moved to a new city.")
    base.update(kw)
    return BrainView(**base)  # type: ignore[arg-type]


def test_system_prompt_has_persona_pattern_and_every_option():
    prompt = build_prompt(view(), BrainSettings(persona="You are Robin, a gentle listener."))
    assert prompt.system.startswith("You are Robin, a gentle listener.")
    assert SYSTEM_PROMPT in prompt.system
    for step in ("Characteristics", "Emotion", "Context", "<think>", "<decision>", "<emotion>", "<response>"):
        assert step in SYSTEM_PROMPT
    for option in (*AGENT_EMOTIONS, *DECISIONS):
        assert option in SYSTEM_PROMPT
    assert "emojis" in SYSTEM_PROMPT and "1 to 3" in SYSTEM_PROMPT


def test_end_of_turn_prompt_carries_cues_emotion_history_and_transcript():
    user = build_prompt(view(), BrainSettings()).user
    assert "just finished speaking" in user
    assert "face: visible, smiling; words: negative (-0.62)" in user
    assert "sad (valence -0.62, arousal +0.31" in user
    assert "face:positive vs words:negative" in user
    assert "The user moved to a new city." in user
    assert "User: I had a rough week." in user
    assert "You: I'm sorry to hear that. [interrupted" in user
    assert '"My cat is sick and I\'m scared."' in user
    assert "8 camera frames" in user and "audio of their last utterance" in user


def test_proactive_prompt_gives_the_silence_length():
    user = build_prompt(view(trigger="proactive", transcript=None, utterance_audio=None, silence_s=9.4),
                        BrainSettings()).user
    assert "silent for 9 seconds" in user and "check-in" in user
    assert "just said" not in user and "audio" not in user


def test_backchannel_and_preemptive_triggers_are_named():
    assert "still talking" in build_prompt(view(trigger="backchannel"), BrainSettings()).user
    assert "may or may not be done" in build_prompt(view(trigger="preemptive"), BrainSettings()).user


def test_images_and_audio_follow_the_settings():
    both = build_prompt(view(), BrainSettings())
    assert both.images == tuple(k.jpeg for k in FRAMES) and both.audio is AUDIO
    neither = build_prompt(view(), BrainSettings(send_images=False, send_audio=False))
    assert neither.images == () and neither.audio is None
    assert "camera frame" not in neither.user and "Attached" not in neither.user
    assert "My cat is sick" in neither.user


def test_history_text_replaces_the_rendered_history_and_the_current_utterance_is_not_doubled():
    prompt = build_prompt(view(), BrainSettings(), history_text="User: something else")
    assert "User: something else" in prompt.user and "rough week" not in prompt.user
    current = DialogueTurn("user", "My cat is sick and I'm scared.", 13.5)
    user = build_prompt(view(history=(*HISTORY, current)), BrainSettings()).user
    assert user.count("My cat is sick") == 1


def test_the_emotion_state_is_given_as_evidence_with_its_sources_not_as_a_verdict():
    masked = EmotionState(t=12.0, valence=-0.45, arousal=0.1, label="sad", confidence=0.3,
                          conflicts=("face:positive vs words:negative",), masking=True, conversation_valence=-0.52,
                          turns=(TurnNote(12.0, 0, -0.59, 1.0), TurnNote(4.0, 1, -0.4, 0.5)),
                          reason="words: negative (doctor, results); face: smiling; likely masking")
    user = build_prompt(view(emotion=masked), BrainSettings()).user
    assert ("Emotion evidence (weigh it yourself, it is not a verdict): words: negative (doctor, results); "
            "face: smiling; likely masking. Rough estimate: sad (valence -0.45") in user
    assert "over the recent turns their words have been negative (-0.52)" in user
    assert "seems happy" not in user
    assert "masking, not joy" in SYSTEM_PROMPT and "Never sound cheerful" in SYSTEM_PROMPT


def test_first_turn_and_missing_transcript_are_said_plainly():
    user = build_prompt(view(history=(), history_summary="", transcript=None, emotion=None), BrainSettings()).user
    assert "start of the conversation" in user
    assert "No words were recognised" in user
    assert "Emotion estimate" not in user


def test_max_tokens_follows_the_settings():
    assert build_prompt(view(), BrainSettings(max_new_tokens=99)).max_tokens == 99


def test_building_a_prompt_with_8_keyframes_is_fast():
    v, settings = view(), BrainSettings()
    build_prompt(v, settings)
    start = time.perf_counter()
    for _ in range(100):
        build_prompt(v, settings)
    assert (time.perf_counter() - start) / 100 < 0.002
