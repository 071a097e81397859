"""The brain's prompt, built for the engine's prefix cache: a fixed system prompt, the history as chat messages, the new turn.

Only the last message changes from one turn to the next: the trigger, the cues and emotion
evidence, and the words just said. Earlier turns are written exactly as they were sent
(the brain passes back what it sent), and the agent's answers in the tag format it wrote
them in, so an engine that keeps the previous prompt's tokens prefills only what is new.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping

from dialogue.answer_format import render_tags
from dialogue.settings import BrainSettings
from dialogue.types import AGENT_EMOTIONS, DECISIONS, BrainView, DialogueTurn, MultimodalPrompt
from perception.types import EmotionState

TurnKey = tuple[str, float, str]
"""A dialogue turn's identity across prompts: role, time (10 ms), text."""

_REASONING = """Before answering, reason briefly inside <think></think>:
1. Characteristics: how the person looks and sounds (expression, gaze, posture; tone, energy, pace).
2. Emotion: what they most likely feel, and whether face, voice and words agree; if not, which to trust and why.
3. Context: the conversation so far, what was just said, and why you are asked now.
4. What would a caring, attentive listener do now?"""

_INSTRUCTIONS = """You take part in a live spoken conversation. Each user message gives what the person just said \
(speech recognition, which can mishear) and what was noticed about them: face, voice, the tone of their words, \
their likely emotion. Weigh the cues yourself. People often smile politely while telling bad news: a smile over \
sad words is masking, not joy, and what happened (now and earlier) weighs more than a smile."""

_FORMAT = f"""Answer in exactly this format, with nothing after it:
{{think}}<decision>one of: {" | ".join(DECISIONS)}</decision><emotion>one of: {", ".join(AGENT_EMOTIONS)}</emotion>\
<response>what you say aloud</response>
respond = a full answer; backchannel = a very short listening sound ("Mm-hm.") while they go on; wait = they are \
not done, or nothing should be said now (empty response). The emotion is the feeling your voice carries.
Your response is spoken by a speech synthesizer: 1 to 3 short sentences, plain words, no lists, emojis or stage \
directions. Match their mood, reflect what they said, ask at most one open question. Never sound cheerful or \
congratulate while the recent conversation is negative."""

MOOD_SHOWN = 0.1
"""The conversation's tone over recent turns is mentioned once it is at least this far from neutral."""

_TRIGGERS = {
    "preemptive": "(They paused; they may or may not be done: answer wait if they are not.)",
    "backchannel": "(They are still talking: a short backchannel, or wait.)",
}
_STARTS = "(The conversation starts.)"
_SILENT = "(They said nothing.)"


def system_prompt(settings: BrainSettings, *, images: bool, audio: bool, summary: str = "") -> str:
    """The fixed part: persona, what the messages hold, reasoning (when on), the answer format."""
    media = []
    if images:
        media.append("the attached images are recent camera frames of them, oldest first")
    if audio:
        media.append("the attached audio is what they just said")
    parts = [settings.persona.strip(), _INSTRUCTIONS + (" " + "; ".join(media).capitalize() + "." if media else "")]
    hidden = settings.reasoning == "hidden"
    if hidden:
        parts.append(_REASONING)
    parts.append(_FORMAT.replace("{think}", "<think>your reasoning</think>" if hidden else ""))
    if summary:
        parts.append(f"Earlier in the conversation (summary): {summary}")
    return "\n\n".join(parts)


def emotion_lines(e: EmotionState) -> list[str]:
    """The emotion state as evidence with its sources and the conversation's tone: the model judges, not the cues."""
    lines = [f"Evidence (weigh it yourself): {e.reason}."] if e.reason else []
    if len(e.turns) > 1 and abs(e.conversation_valence) >= MOOD_SHOWN:
        tone = "negative" if e.conversation_valence < 0 else "positive"
        lines.append(f"Over the recent turns their words have been {tone} ({e.conversation_valence:+.2f}).")
    return lines


def turn_message(view: BrainView, *, images: int = 0, audio: bool = False, said_already: str = "") -> str:
    """What is new this turn: why the model is asked, the cues, the words just said, what was already said."""
    lines: list[str] = []
    if view.trigger == "proactive":
        lines.append(f"(They have been silent for {view.silence_s:.0f} seconds and seem to be in a difficult state: "
                     "a gentle check-in may help, or wait.)")
    elif view.trigger in _TRIGGERS:
        lines.append(_TRIGGERS[view.trigger])
    if view.history and view.history[-1].role == "agent" and view.history[-1].interrupted:
        lines.append("(They interrupted you: they heard only your last response up to where it ends.)")
    lines.append(f"Cues: {view.cue_summary or 'none'}.")
    if view.emotion is not None:
        lines += emotion_lines(view.emotion)
    said = _said(view)
    if said:
        lines.append(f'They said: "{said}"')
    elif view.trigger != "proactive":
        lines.append("No words were recognised.")
    attached = []
    if images:
        attached.append(f"{images} camera frame{'s' if images > 1 else ''}")
    if audio:
        attached.append("the audio of what they said")
    if attached:
        lines.append("Attached: " + " and ".join(attached) + ".")
    if said_already:
        lines.append(f'You have already said: "{said_already}" Go on from there, without repeating it.')
    return "\n".join(lines)


def _said(view: BrainView) -> str:
    return view.transcript.text.strip() if view.transcript is not None else ""


def turn_key(turn: DialogueTurn) -> TurnKey:
    return turn.role, round(turn.t, 2), turn.text.strip()


def current_key(view: BrainView) -> TurnKey | None:
    """The key the user's turn answered now will have in later histories (None when nothing was said)."""
    said = _said(view)
    if view.transcript is None or not said:
        return None
    return "user", round(view.transcript.end, 2), said


def history_messages(view: BrainView, sent: Mapping[TurnKey, str]) -> list[tuple[str, str]]:
    """The conversation before this turn as alternating chat messages.

    A user turn is the message sent for it when there is one, else its words; an agent
    turn is its answer in the tag format (what was heard of it). Where two turns of one
    side follow each other, the other side's silence is written between them (many chat
    templates require alternation).
    """
    turns = view.history
    said = _said(view)
    if said and turns and turns[-1].role == "user" and turns[-1].text.strip() == said:
        turns = turns[:-1]  # the runtime may already have stored the utterance answered now
    messages: list[tuple[str, str]] = []
    for turn in turns:
        role = "user" if turn.role == "user" else "assistant"
        if not messages and role == "assistant":
            messages.append(("user", _STARTS))
        elif messages and messages[-1][0] == role:
            messages.append(("assistant", render_tags("wait", "neutral", "")) if role == "user" else ("user", _SILENT))
        if role == "user":
            messages.append(("user", sent.get(turn_key(turn)) or f'They said: "{turn.text.strip()}"'))
        else:
            messages.append(("assistant", render_tags("respond", turn.emotion or "neutral", turn.text.strip())))
    if messages and messages[-1][0] == "user":
        messages.append(("assistant", render_tags("wait", "neutral", "")))
    return messages


def build_prompt(view: BrainView, settings: BrainSettings, *, sent: Mapping[TurnKey, str] | None = None,
                 said_already: str = "") -> MultimodalPrompt:
    """One request: the fixed system prompt, the history, and this turn's message with its media."""
    images = tuple(k.jpeg for k in view.keyframes) if settings.send_images else ()
    audio = view.utterance_audio if settings.send_audio and view.utterance_audio is not None else None
    user = turn_message(view, images=len(images), audio=audio is not None, said_already=said_already)
    return MultimodalPrompt(
        user=user, system=system_prompt(settings, images=settings.send_images, audio=settings.send_audio,
                                        summary=view.history_summary),
        images=images, audio=audio, history=tuple(history_messages(view, sent or {})),
        max_tokens=settings.max_new_tokens)


MESSAGE_OVERHEAD = 8
"""Tokens a chat template adds around each message (role markers), counted when fitting a prompt."""


def fit_context(prompt: MultimodalPrompt, count: Callable[[str], int], context_size: int) -> tuple[MultimodalPrompt, int]:
    """The prompt with its oldest history messages left out (in user/answer pairs) until it and its answer fit
    ``context_size`` tokens; and how many messages were left out."""
    history = prompt.history
    budget = context_size - prompt.max_tokens
    costs = [count(text) + MESSAGE_OVERHEAD for _, text in history]
    total = count(prompt.system) + count(prompt.user) + 2 * MESSAGE_OVERHEAD + sum(costs)
    dropped = 0
    while total > budget and dropped < len(history):
        step = 2 if dropped + 1 < len(history) else 1
        total -= sum(costs[dropped:dropped + step])
        dropped += step
    if not dropped:
        return prompt, 0
    return replace(prompt, history=history[dropped:]), dropped
