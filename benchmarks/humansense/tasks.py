"""The HumanSense task table: question patterns, paper columns, and which tasks take audio, ASR or the thinking prompt."""
from __future__ import annotations

import re

SINGLE = "Multiple-choice question (select one answer choice)"
MULTI = "Multiple-choice question (select one or more answer choices)"
NUMERIC = "Question and answer (Arabic numerals)"
YES_NO = "Judgment question (Yes or No)"
PATTERNS: tuple[str, ...] = (SINGLE, MULTI, NUMERIC, YES_NO)

COLUMNS: tuple[str, ...] = ("AR", "ER", "GR", "PA", "AC", "CM", "HC", "TR", "FR1", "FR2", "LD", "RR1", "RR2", "ES", "PC")
"""Table 1's column order."""
AUDIO_ONLY_COLUMNS: frozenset[str] = frozenset({"FR2", "PC"})
AVG_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in AUDIO_ONLY_COLUMNS)
"""The paper's Avg. is the unweighted mean of these 13 video tasks."""

# Published task_type strings, plus the likely spellings of the five whose strings
# the paper does not publish; keys are normalised by ``normalize_task``.
_TASK_ALIASES: dict[str, str] = {
    "actionrecognition": "AR", "action": "AR",
    "emotionrecognition": "ER", "emotion": "ER",
    "gesturerecognition": "GR", "gesture": "GR",
    "personappearance": "PA", "appearance": "PA", "appearancerecognition": "PA",
    "abnormalrecognition": "AC", "abnormalclassification": "AC",
    "complexmotion": "CM", "complexmotionrecognition": "CM",
    "humancounting": "HC", "humancount": "HC", "personreid": "HC", "humanreid": "HC",
    "talkingpersonrecognition": "TR",
    "familiarityrecognition": "FR1",
    "fraudrecognition": "FR2",
    "liedetection": "LD", "lierecognition": "LD",
    "relationrecognition": "RR1", "relationshiprecognition": "RR1",
    "rapportrecognition": "RR2",
    "emostrategy": "ES", "emotionstrategy": "ES",
    "psychologicalchat": "PC",
}

AUDIO_TASKS: frozenset[str] = frozenset({"RR2", "ES", "TR", "FR1", "RR1", "FR2", "PC"})
"""Columns whose media soundtrack the published runs gave the model (with audio on)."""
ASR_TASKS: frozenset[str] = frozenset({"RR2", "ES", "TR", "FR1", "RR1"})
"""Columns the published ASR variant runs (the others are skipped)."""
THINK_PATTERN_TASKS: frozenset[str] = AUDIO_TASKS
"""Columns the published thinking-pattern ("think_omini") variant runs."""


def normalize_task(task_type: str) -> str:
    """Lower case without spaces, underscores or hyphens: "Emo_Strategy" and "emo strategy" meet."""
    return re.sub(r"[\s_\-]+", "", task_type).lower()


def column_of(task_type: str) -> str | None:
    """The paper column of a task_type string, or None for a type the table does not know."""
    key = normalize_task(task_type)
    if key.upper() in COLUMNS:
        return key.upper()
    return _TASK_ALIASES.get(key)


def resolve_columns(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Column names or task_type strings given on the command line, as columns; unknown names raise."""
    out: set[str] = set()
    for name in names:
        col = column_of(name)
        if col is None:
            raise ValueError(f"unknown task {name!r}; use a column ({', '.join(COLUMNS)}) or a task_type string")
        out.add(col)
    return frozenset(out)
