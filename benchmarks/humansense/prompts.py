"""The published prompts: template choice by pattern, the ASR, thinking-pattern and agent prefixes, and the audio rule."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from benchmarks.humansense.loader import Item
from benchmarks.humansense.tasks import ASR_TASKS, MULTI, NUMERIC, SINGLE, THINK_PATTERN_TASKS, YES_NO

VARIANTS: tuple[str, ...] = ("plain", "reasoning", "asr", "think-pattern", "agent")

QWEN_OMNI_SYSTEM = ("You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of "
                    "perceiving auditory and visual inputs, as well as generating text and speech.")
"""The system message of the published Qwen2.5-Omni runs (antgroup/HumanSense, src/model/Qwen25omini.py)."""

AGENT_PREFIX = "The following is what the agent's own perception noticed in the media:\n"

YES_NO_PLAIN_SKIP = ("yes/no question: the published plain templates have no yes/no prompt; "
                     "run with --variant reasoning (or --think) to use the think YES_NO template")


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    """The published prompt strings (see NOTICE.md)."""
    return json.loads((Path(__file__).with_name("prompt_templates.json")).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class PromptPlan:
    """What to ask for one item: ``text`` is None when the item is skipped (``skip_reason`` says why)."""
    text: str | None
    audio: bool = False
    skip_reason: str | None = None


def _filled(item: Item, think: bool) -> str | None:
    set_ = templates()["think" if think else "plain"]
    pattern = item.pattern
    if pattern == NUMERIC:
        return set_["PROMPT_TEMPLATE_QA"].format(item.question)
    if pattern == YES_NO:
        return set_["PROMPT_TEMPLATE_YES_NO"].format(item.question) if think else None
    if pattern == MULTI:
        return set_["PROMPT_TEMPLATE_INDEFINITE"].format(item.question, *item.options)
    if pattern == SINGLE:
        return set_[f"PROMPT_TEMPLATE_SINGLE{len(item.options)}"].format(item.question, *item.options)
    raise ValueError(f"item {item.index}: unknown question_pattern {pattern!r}")


def build_prompt(item: Item, variant: str = "plain", *, think: bool | None = None,
                 audio_columns: frozenset[str] = frozenset(), perception: str = "") -> PromptPlan:
    """The published prompt for one item in one variant.

    ``think`` picks the think templates (default: only for ``reasoning``);
    ``audio_columns`` are the columns given their soundtrack (empty = no audio);
    ``perception`` is the agent variant's summary, put before the prompt.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    think = variant == "reasoning" if think is None else think
    column = item.column
    if variant == "asr" and column not in ASR_TASKS:
        return PromptPlan(None, skip_reason=f"the ASR variant runs only {', '.join(sorted(ASR_TASKS))}")
    if variant == "think-pattern" and column not in THINK_PATTERN_TASKS:
        return PromptPlan(None, skip_reason=f"the thinking-pattern variant runs only {', '.join(sorted(THINK_PATTERN_TASKS))}")
    text = _filled(item, think)
    if text is None:
        return PromptPlan(None, skip_reason=YES_NO_PLAIN_SKIP)
    if variant == "asr":
        asr = item.q.get("asr_en")
        if not asr:
            return PromptPlan(None, skip_reason="the ASR variant needs the item's asr_en transcript, which is missing")
        text = templates()["asr_prefix"] + asr + text
    elif variant == "think-pattern":
        text = templates()["think_omini_system"] + text
    elif variant == "agent" and perception:
        text = AGENT_PREFIX + perception.strip() + "\n" + text
    return PromptPlan(text, audio=column in audio_columns)
