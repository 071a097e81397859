"""The reasoning prompt: persona, HumanSense's look-think-answer pattern, the tag format, and the view as text + media."""
from __future__ import annotations

from dialogue.memory import format_turn
from dialogue.settings import BrainSettings
from dialogue.types import AGENT_EMOTIONS, DECISIONS, BrainView, DialogueTurn, MultimodalPrompt
from perception.types import EmotionState

SYSTEM_PROMPT = f"""You take part in a live spoken conversation. You see the person through a camera \
(the attached images are recent frames, oldest first) and may hear their last utterance (the attached audio).

Before answering, reason step by step inside <think></think>:
1. Characteristics: what the person looks like and does — appearance, facial expression, gaze, posture; \
how their voice sounds — tone, energy, pace.
2. Emotion: what they most likely feel, and whether face, voice and words agree; if they disagree, say which \
to trust and why. People often smile politely while telling bad news: a smile over sad words is masking, not joy, \
and what they say happened (now and earlier in the conversation) weighs more than a smile.
3. Context: the conversation so far, what was just said, and why you are asked now (the trigger).
4. Decide whether to speak now and how: what would a caring, attentive listener do?

Then answer in exactly this format, with nothing after it:
<think>your reasoning</think>
<decision>one of: {" | ".join(DECISIONS)}</decision>
<emotion>one of: {", ".join(AGENT_EMOTIONS)}</emotion>
<response>what you say aloud</response>

Decision: respond = give a full answer; backchannel = a very short listening sound or phrase \
("Mm-hm.", "I see.") while the person goes on; wait = the person is not done or nothing should be said now \
(leave the response empty).
Emotion: the feeling your voice should carry, chosen from the list only.
Response: spoken aloud by a speech synthesizer, so 1 to 3 short sentences, plain words only — no markup, \
lists, emojis or stage directions. Match the person's mood, reflect what they said, and ask at most one \
open question. Never sound cheerful or congratulate while the recent conversation is negative."""

MOOD_SHOWN = 0.1
"""The conversation's tone over recent turns is mentioned once it is at least this far from neutral."""

_TRIGGERS = {
    "end_of_turn": "The person just finished speaking; it is your turn.",
    "preemptive": "The person paused; they may or may not be done (answer wait if they are not).",
    "backchannel": "The person is still talking; decide whether a short backchannel would help.",
}


def _emotion_line(e: EmotionState) -> str:
    """The emotion state as evidence with its sources, then the cues' rough estimate: the model judges, not the cues."""
    estimate = (f"{e.label} (valence {e.valence:+.2f}, arousal {e.arousal:+.2f}, confidence {e.confidence:.0%})")
    if e.reason:
        line = f"Emotion evidence (weigh it yourself, it is not a verdict): {e.reason}. Rough estimate: {estimate}"
    else:
        line = f"Emotion estimate from the cues: {estimate}"
    if e.conflicts:
        line += "; conflicting cues: " + "; ".join(e.conflicts)
    if len(e.turns) > 1 and abs(e.conversation_valence) >= MOOD_SHOWN:
        tone = "negative" if e.conversation_valence < 0 else "positive"
        line += f"; over the recent turns their words have been {tone} ({e.conversation_valence:+.2f})"
    return line + "."


def _trigger_line(view: BrainView) -> str:
    if view.trigger == "proactive":
        return (f"The person has been silent for {view.silence_s:.0f} seconds and seems to be in a difficult "
                "state; decide whether a gentle check-in would help now.")
    return _TRIGGERS.get(view.trigger, _TRIGGERS["end_of_turn"])


def render_history(summary: str, turns: tuple[DialogueTurn, ...]) -> str:
    """The conversation so far as prompt text: the folded summary, then the recent turns."""
    lines = [f"Earlier in the conversation (summary): {summary}"] if summary else []
    lines += [format_turn(t) for t in turns]
    return "\n".join(lines)


def build_prompt(view: BrainView, settings: BrainSettings, *, history_text: str | None = None) -> MultimodalPrompt:
    """One request for a multimodal LLM; ``history_text`` replaces the history rendered from the view."""
    said = view.transcript.text.strip() if view.transcript is not None else ""
    turns = view.history
    if said and turns and turns[-1].role == "user" and turns[-1].text.strip() == said:
        turns = turns[:-1]  # the runtime may already have stored the utterance answered now
    history = history_text if history_text is not None else render_history(view.history_summary, turns)
    images = tuple(k.jpeg for k in view.keyframes) if settings.send_images else ()
    audio = view.utterance_audio if settings.send_audio else None

    parts = [_trigger_line(view), f"Cues: {view.cue_summary or 'none'}."]
    if view.emotion is not None:
        parts.append(_emotion_line(view.emotion))
    parts.append("Conversation so far:\n" + (history or "(this is the start of the conversation)"))
    if said:
        parts.append(f'The person just said (speech recognition): "{said}"')
    elif view.trigger != "proactive":
        parts.append("No words were recognised in the person's last utterance.")
    media = []
    if images:
        media.append(f"{len(images)} camera frame{'s' if len(images) > 1 else ''} "
                     f"(from t={view.keyframes[0].t:.1f}s to t={view.keyframes[-1].t:.1f}s)")
    if audio is not None:
        media.append("the audio of their last utterance")
    if media:
        parts.append("Attached: " + " and ".join(media) + ".")
    parts.append("Look, think, then answer in the required format.")
    return MultimodalPrompt(
        user="\n\n".join(parts), system=f"{settings.persona.strip()}\n\n{SYSTEM_PROMPT}",
        images=images, audio=audio, max_tokens=settings.max_new_tokens)
