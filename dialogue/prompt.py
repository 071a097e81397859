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
from dialogue.unsure import unsure_words
from dialogue.settings import BrainSettings
from dialogue.types import AGENT_EMOTIONS, DECISIONS, BrainView, DialogueTurn, MultimodalPrompt

TurnKey = tuple[str, float, str]
"""A dialogue turn's identity across prompts: role, time (10 ms), text."""

_REASONING = """Before answering, reason briefly inside <think></think>:
1. Characteristics: how the person looks and sounds (expression, gaze, posture; tone, energy, pace).
2. Emotion: what they most likely feel, and whether face, voice and words agree; if not, which to trust and why.
3. Context: the conversation so far, what was just said, and why you are asked now.
4. What would a caring, attentive listener do now?"""

_INSTRUCTIONS = """You are in a live spoken conversation. Each user message is what the person said (speech \
recognition, which can mishear; words it was unsure of are listed as "(unsure: ...)": never say those back, and \
ask again when you cannot tell what was meant), then in brackets what was noticed: face, voice, words, likely \
emotion. Weigh it yourself: a smile over sad words is masking, not joy, and what happened (now or earlier) weighs \
more than a smile."""

_FORMAT = f"""Answer in exactly this format:
{{think}}<decision>{" | ".join(DECISIONS)}</decision><emotion>one of: {", ".join(AGENT_EMOTIONS)}</emotion>\
<response>what you say aloud</response>
respond: a full answer. backchannel: a short listening sound ("Mm-hm.") while they go on. wait: they are not done \
(empty response). The emotion is the feeling in your voice.
Your response is spoken aloud: 1 to 3 short sentences, plain words, no lists or emojis. Match their mood, reflect \
what they said, ask at most one open question. Never sound cheerful while the conversation is negative."""

_TRIGGERS = {
    "preemptive": "(They paused; they may or may not be done: answer wait if they are not.)",
    "backchannel": "(They are still talking: a short backchannel, or wait.)",
}
_STARTS = "(The conversation starts.)"
_SILENT = "[they said nothing]"


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


def cue_line(view: BrainView) -> str:
    """What was noticed, compactly (every token is prefilled each turn): the fused state's evidence with its
    sources and what it adds up to, or the cue summary when there is no fused state yet."""
    e = view.emotion
    if e is None or not e.reason:
        return f"[{view.cue_summary or 'no cues'}]"
    return f"[{e.reason}; they seem {e.label}]"


def heard_prefix(view: BrainView) -> str:
    """How this turn's message starts, up to the last word heard so far: an engine can evaluate it while the
    person is still speaking (the message puts the words first for that reason)."""
    lines = []
    if view.trigger == "proactive":
        lines.append(f"(They have been silent for {view.silence_s:.0f} seconds and seem to be in a difficult state: "
                     "a gentle check-in may help, or wait.)")
    elif view.trigger in _TRIGGERS:
        lines.append(_TRIGGERS[view.trigger])
    if view.trigger != "proactive":
        lines.append(_said(view))
    return "\n".join(lines)


def turn_message(view: BrainView, *, images: int = 0, audio: bool = False, said_already: str = "",
                 unsure_below: float = 0.0) -> str:
    """What is new this turn: why the model is asked, the words just said and those of them recognised with a
    probability under ``unsure_below``, the cues, what was already said."""
    lines = [heard_prefix(view) if view.trigger == "proactive" or _said(view) else
             heard_prefix(view) + "[no words were recognised]"]
    unsure = unsure_words(view.transcript, unsure_below)
    if unsure:
        lines.append(f"(unsure: {', '.join(unsure)})")
    if view.history and view.history[-1].role == "agent" and view.history[-1].interrupted:
        lines.append("(They interrupted you: they heard only your last response up to where it ends.)")
    lines.append(cue_line(view))
    attached = []
    if images:
        attached.append(f"{images} camera frame{'s' if images > 1 else ''}")
    if audio:
        attached.append("the audio of what they said")
    if attached:
        lines.append("Attached: " + " and ".join(attached) + ".")
    if said_already:
        lines.append(f'You have already said: "{said_already}" Go on from there, without repeating it.')
    return "\n".join(line for line in lines if line)


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
            messages.append(("user", sent.get(turn_key(turn)) or turn.text.strip()))
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
    user = turn_message(view, images=len(images), audio=audio is not None, said_already=said_already,
                        unsure_below=settings.unsure_below)
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
