"""`bench --brain`: one scripted conversation with the configured brain, timed turn by turn at a speaker's pace.

The conversation goes through the same cue analysis, fusion and rolling context as the
empathy evaluation (``benchmarks.empathy.runner.Conversation``) and the brain is driven as
the session drives it: while the user speaks, the engine is handed the words settled so far
about once a second (the runtime's incremental transcription); after each answer, the
history. ``--pace realtime`` waits as long as the user and the agent would speak; ``fast``
does not (the engine then has no time to read ahead). Per turn: prompt tokens the engine had
to evaluate, time from the request to the first words and to the first piece of speech
(an acknowledgement counts), and whether decision and emotion parsed.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

import numpy as np

from agent.config import Config
from agent.files import atomic_write_json
from agent.runtime.metrics import percentiles
from benchmarks.empathy.cases import Case, Turn
from benchmarks.empathy.runner import AGENT_WORDS_PER_S, USER_WORDS_PER_S, Conversation, ask
from benchmarks.empathy.session import describe
from benchmarks.latency.summary import machine_info
from dialogue.brains import make_brain
from dialogue.types import AGENT_EMOTIONS, DECISIONS, Brain

CONVERSATION = Case("brain-bench", "report", "a day at work, then the weekend", (
    Turn("Hi there, I just got back from a long day at work.", "neutral", "even"),
    Turn("My manager criticized my report in front of everyone.", "smile", "subdued", expect="negative"),
    Turn("I worked on it for two weeks and nobody helped me.", "neutral", "subdued", expect="negative"),
    Turn("I don't know if I should talk to him about it.", "neutral", "even"),
    Turn("Anyway, my sister is visiting this weekend.", "smile", "animated", expect="positive"),
    Turn("We are going to the lake if the weather holds.", "smile", "animated"),
    Turn("I'm still thinking about the report, though.", "neutral", "subdued", expect="negative"),
    Turn("Do you think I overreacted?", "neutral", "even"),
    Turn("Thanks for listening, it helps.", "smile", "even", expect="positive"),
    Turn("Okay, I should get some sleep. Good night.", "neutral", "even"),
))
"""Ten turns: short and long, sad news told with a smile, a change of mood, a question, a goodbye."""
SETTLE_EVERY_S = 1.0
"""How often the words settled so far reach the engine while the user speaks (the runtime's incremental ASR)."""
TAIL_WORDS = 2
"""Words still unsettled when the user stops: the runtime's last pass transcribes them at the pause."""


async def _speak(brain: Brain, conversation: Conversation, turn: Turn, realtime: bool) -> None:
    """The user says ``turn``: the settled words reach the engine as they would while it is spoken."""
    words = len(turn.user.split())
    prefetch = getattr(brain, "prefetch", None)
    spoken = 0.0
    while True:
        settled = min(int((spoken + SETTLE_EVERY_S) * USER_WORDS_PER_S), words - TAIL_WORDS)
        if prefetch is not None and settled > 0:
            prefetch(conversation.heard(turn, settled))
        if not realtime or spoken + SETTLE_EVERY_S >= words / USER_WORDS_PER_S:
            break
        await asyncio.sleep(SETTLE_EVERY_S)
        spoken += SETTLE_EVERY_S
    if realtime:
        await asyncio.sleep(max(0.0, words / USER_WORDS_PER_S - spoken))


async def _converse(config: Config, repetition: int, realtime: bool, say: Callable[[str], None]) -> list[dict[str, Any]]:
    brain = make_brain(config.brain, config.policy)
    await brain.warm_up()
    conversation = Conversation(config, getattr(brain, "count_tokens", None))
    prefetch = getattr(brain, "prefetch", None)
    rows = []
    try:
        for index, turn in enumerate(CONVERSATION.turns):
            await _speak(brain, conversation, turn, realtime)
            view, _, voice, words = conversation.listen(turn)
            reply = await ask(brain, view, config.tts.first_clause_words or None)
            stats = getattr(getattr(brain, "generator", None), "last_stats", None)
            row = {
                "repetition": repetition, "turn": index + 1, "user": turn.user,
                "prefilled_tokens": stats.prefilled_tokens if stats is not None else None,
                "prompt_tokens": stats.prompt_tokens if stats is not None else None,
                "first_words_ms": _ms(reply.first_words_s), "first_speech_ms": _ms(reply.first_speech_s),
                "total_ms": _ms(reply.total_s), "decision": reply.decision, "emotion": reply.emotion,
                "parsed": reply.decision in DECISIONS and reply.emotion in AGENT_EMOTIONS,
                "acknowledgement": reply.acknowledgement, "notes": list(reply.notes), "reply": reply.text}
            rows.append(row)
            say(f"  #{repetition} turn {index + 1}: {row['prefilled_tokens']} tokens prefilled, first speech "
                f"{row['first_speech_ms']} ms, {reply.decision}/{reply.emotion}"
                + (f", notes: {'; '.join(reply.notes)}" if reply.notes else ""))
            conversation.commit(turn, view, reply, voice, words)
            if prefetch is not None:
                prefetch(conversation.context.view(conversation.t, "end_of_turn"))
            if realtime:
                await asyncio.sleep(len(reply.text.split()) / AGENT_WORDS_PER_S)
    finally:
        await brain.aclose()
    return rows


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Percentiles over every turn after the first, per turn number, and the growth over the conversation."""
    later = [r for r in rows if r["turn"] > 1]
    by_turn = {}
    for n in sorted({r["turn"] for r in rows}):
        of_turn = [r for r in rows if r["turn"] == n]
        by_turn[str(n)] = {key: percentiles([r[key] for r in of_turn if r[key] is not None], (50,)).get("p50")
                           for key in ("prefilled_tokens", "first_words_ms", "first_speech_ms")}
    speech = [(r["turn"], r["first_speech_ms"]) for r in later if r["first_speech_ms"] is not None]
    slope = float(np.polyfit(*zip(*speech), 1)[0]) if len({t for t, _ in speech}) > 1 else None
    return {
        "turns": len(rows), "parsed": sum(r["parsed"] for r in rows),
        "with_notes": sum(bool(r["notes"]) for r in rows),
        "acknowledged": sum(r["acknowledgement"] is not None for r in rows),
        "after_first": {key: percentiles([r[key] for r in later if r[key] is not None], (50, 90))
                        for key in ("prefilled_tokens", "first_words_ms", "first_speech_ms", "total_ms")},
        "first_speech_ms_per_turn_slope": None if slope is None else round(slope, 2),
        "by_turn": by_turn,
        "targets": {"prefilled_tokens_max": 150, "first_speech_ms_max": 400},
    }


def run_brain_bench(config: Config, out: Path, repeat: int, realtime: bool,
                    say: Callable[[str], None]) -> dict[str, Any]:
    """Hold the conversation ``repeat`` times with a fresh brain each time; write DIR/brain.json and brain.png."""
    rows: list[dict[str, Any]] = []
    for repetition in range(1, repeat + 1):
        rows += asyncio.run(_converse(config, repetition, realtime, say))
    brain = make_brain(config.brain, config.policy)
    result = {"brain": describe(config, brain), "pace": "realtime" if realtime else "fast", "repeat": repeat,
              "machine": machine_info(), "summary": summarize(rows), "turns": rows}
    asyncio.run(brain.aclose())
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "brain.json", result)
    _plot(rows, out / "brain.png")
    return result


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (speech, tokens) = plt.subplots(1, 2, figsize=(10, 3.6))
    for repetition in sorted({r["repetition"] for r in rows}):
        mine = [r for r in rows if r["repetition"] == repetition]
        speech.plot([r["turn"] for r in mine], [r["first_speech_ms"] for r in mine], marker="o",
                    label=f"run {repetition}")
        tokens.plot([r["turn"] for r in mine], [r["prefilled_tokens"] for r in mine], marker="o")
    speech.axhline(400, color="grey", linestyle="--", linewidth=1, label="target")
    tokens.axhline(150, color="grey", linestyle="--", linewidth=1)
    speech.set(xlabel="turn", ylabel="request → first speech (ms)", title="first piece of speech")
    tokens.set(xlabel="turn", ylabel="tokens", title="prompt tokens evaluated at the request")
    speech.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
