"""The brain's prompt: a fixed system part, the history as chat messages, only the new turn last; media by settings."""
from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
from PIL import Image

from dialogue.answer_format import render_tags
from dialogue.prompt import build_prompt, current_key, fit_context, history_messages
from dialogue.settings import BrainSettings
from dialogue.types import AGENT_EMOTIONS, DECISIONS, BrainView, DialogueTurn, Keyframe
from perception.types import EmotionState, Transcript, TurnNote, Word


def jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG")
    return buf.getvalue()


FRAMES = tuple(Keyframe(t=10.0 + i * 0.5, jpeg=jpeg(i), width=64, height=48) for i in range(8))
AUDIO = np.zeros(16000, dtype=np.int16)
SAD = EmotionState(t=12.0, valence=-0.62, arousal=0.31, label="sad", confidence=0.7,
                   conflicts=("face:positive vs words:negative",))
HISTORY = (DialogueTurn("user", "I had a rough week.", 1.0),
           DialogueTurn("agent", "I'm sorry to hear that.", 2.0, emotion="concerned", interrupted=True))


def view(**kw: object) -> BrainView:
    base: dict[str, object] = dict(
        t=14.0, trigger="end_of_turn", transcript=Transcript("My cat is sick and I'm scared.", 11.0, 13.5),
        utterance_audio=AUDIO, keyframes=FRAMES, cue_summary="face: visible, smiling; words: negative (-0.62)",
        emotion=SAD, history=HISTORY, history_summary="The user moved to a new city.")
    base.update(kw)
    return BrainView(**base)  # type: ignore[arg-type]


def test_the_system_prompt_holds_persona_format_and_every_option_and_nothing_of_this_turn():
    prompt = build_prompt(view(), BrainSettings(persona="You are Robin, a gentle listener."))
    assert prompt.system.startswith("You are Robin, a gentle listener.")
    for part in ("<decision>", "<emotion>", "<response>", "masking, not joy", "Never sound cheerful", "1 to 3",
                 *AGENT_EMOTIONS, *DECISIONS):
        assert part in prompt.system
    assert "My cat" not in prompt.system and "smiling" not in prompt.system
    assert "The user moved to a new city." in prompt.system


def test_reasoning_hidden_asks_for_think_first_and_off_never_mentions_it():
    hidden = build_prompt(view(), BrainSettings(reasoning="hidden")).system
    assert "<think>" in hidden and "Characteristics" in hidden
    assert "<think>" not in build_prompt(view(), BrainSettings(reasoning="off")).system


def test_the_system_prompt_is_the_same_whatever_the_turn_says():
    settings = BrainSettings()
    other = view(transcript=Transcript("Hello!", 1.0, 2.0), emotion=None, cue_summary="face: visible", history=())
    assert build_prompt(view(), settings).system == build_prompt(other, settings).system


def test_the_new_message_carries_the_evidence_words_and_media():
    masked = EmotionState(t=12.0, valence=-0.45, arousal=0.1, label="sad", confidence=0.3, masking=True,
                          conversation_valence=-0.52,
                          turns=(TurnNote(12.0, 0, -0.59, 1.0), TurnNote(4.0, 1, -0.4, 0.5)),
                          reason="words: negative (doctor, results); earlier: negative (fired); face: smiling; "
                                 "likely masking")
    user = build_prompt(view(emotion=masked), BrainSettings()).user
    assert ("\n[words: negative (doctor, results); earlier: negative (fired); face: smiling; likely masking; "
            "they seem sad]\n") in user
    assert user.startswith("My cat is sick and I'm scared.\n")
    assert "Attached: 8 camera frames and the audio of what they said." in user
    assert "rough week" not in user  # the history is in the messages before it


def test_words_the_recognizer_was_unsure_of_are_listed_after_what_was_said():
    scores = {"created": 0.3, "a": 0.2, "size": 0.4}
    text = "My manager created a size of my report."
    words = tuple(Word(w, 11.0 + i * 0.3, 11.3 + i * 0.3, scores.get(w, 0.9)) for i, w in enumerate(text.split()))
    misheard = view(transcript=Transcript(text, 11.0, 13.5, words))
    user = build_prompt(misheard, BrainSettings()).user
    assert user.startswith(text + "\n(unsure: created, a, size)\n")
    assert "(unsure:" not in build_prompt(misheard, BrainSettings(unsure_below=0.0)).user
    assert "(unsure:" not in build_prompt(view(), BrainSettings()).user  # no word scores: nothing is unsure
    assert '"(unsure: ...)": never say those back' in build_prompt(view(), BrainSettings()).system


def test_the_history_is_alternating_chat_messages_with_the_agent_in_the_tag_format():
    prompt = build_prompt(view(), BrainSettings())
    assert prompt.history == (("user", "I had a rough week."),
                              ("assistant", render_tags("respond", "concerned", "I'm sorry to hear that.")))
    assert "(They interrupted you" in prompt.user


def test_a_user_turn_is_repeated_exactly_as_it_was_sent():
    sent = {("user", 1.0, "I had a rough week."): "I had a rough week.\n[face: visible]"}
    assert history_messages(view(), sent)[0] == ("user", sent[("user", 1.0, "I had a rough week.")])


def test_two_turns_of_one_side_get_the_other_sides_silence_between_them():
    turns = (DialogueTurn("agent", "Hi.", 0.5), DialogueTurn("agent", "Still there?", 9.0),
             DialogueTurn("user", "Yes.", 10.0), DialogueTurn("user", "Sorry.", 12.0))
    roles = [r for r, _ in history_messages(view(history=turns), {})]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant", "user", "assistant"]
    assert history_messages(view(history=turns), {})[-1] == ("assistant", render_tags("wait", "neutral", ""))


def test_the_utterance_answered_now_is_not_doubled_in_the_history():
    current = DialogueTurn("user", "My cat is sick and I'm scared.", 13.5)
    prompt = build_prompt(view(history=(*HISTORY, current)), BrainSettings())
    assert sum("My cat is sick" in text for _, text in prompt.history) == 0
    assert current_key(view()) == ("user", 13.5, "My cat is sick and I'm scared.")


def test_proactive_backchannel_and_preemptive_triggers_are_named():
    proactive = build_prompt(view(trigger="proactive", transcript=None, utterance_audio=None, silence_s=9.4),
                             BrainSettings()).user
    assert "silent for 9 seconds" in proactive and "check-in" in proactive and "recognised" not in proactive
    assert "still talking" in build_prompt(view(trigger="backchannel"), BrainSettings()).user
    assert "may or may not be done" in build_prompt(view(trigger="preemptive"), BrainSettings()).user


def test_what_was_already_said_is_told_so_it_is_not_repeated():
    user = build_prompt(view(), BrainSettings(), said_already="I'm so sorry.").user
    assert user.endswith('You have already said: "I\'m so sorry." Go on from there, without repeating it.')


def test_images_and_audio_follow_the_settings():
    both = build_prompt(view(), BrainSettings())
    assert both.images == tuple(k.jpeg for k in FRAMES) and both.audio is AUDIO
    assert "camera frames" in both.system
    neither = build_prompt(view(), BrainSettings(send_images=False, send_audio=False))
    assert neither.images == () and neither.audio is None
    assert "Attached" not in neither.user and "camera" not in neither.system


def test_without_a_fused_state_the_cue_summary_is_given_and_a_missing_transcript_is_said_plainly():
    user = build_prompt(view(history=(), history_summary="", transcript=None, emotion=None), BrainSettings()).user
    assert "[face: visible, smiling; words: negative (-0.62)]" in user
    assert user.startswith("[no words were recognised]")


def test_max_tokens_follows_the_settings():
    assert build_prompt(view(), BrainSettings(max_new_tokens=99)).max_tokens == 99


def test_a_prompt_too_long_for_the_context_loses_its_oldest_turns_in_pairs():
    turns = tuple(DialogueTurn("user" if i % 2 == 0 else "agent", f"turn number {i} " * 10, float(i))
                  for i in range(20))
    prompt = build_prompt(view(history=turns), BrainSettings(max_new_tokens=64))
    count = lambda text: len(text.split())  # noqa: E731 - a tokenizer stand-in: one token a word
    whole = count(prompt.system) + count(prompt.user) + sum(count(t) for _, t in prompt.history)
    fitted, dropped = fit_context(prompt, count, whole)
    assert dropped >= 2 and dropped % 2 == 0
    assert fitted.history == prompt.history[dropped:] and fitted.history[0][0] == "user"
    assert fit_context(prompt, count, 100_000) == (prompt, 0)
    tiny, dropped = fit_context(prompt, count, 10)
    assert tiny.history == () and dropped == len(prompt.history)
    assert replace(tiny, history=prompt.history) == prompt
