"""Scoring a results file: the published plain and reasoning scorers (quirks kept, never crashing) and a robust one.

Output shape, as published: ``{task_type: {"total", "correct", "accuracy"}, ..., "all": {...}}``,
task types in the order their first scored item appears; ``correct`` sums credit
(multiple choice gives 0.5 for a correct subset).
"""
from __future__ import annotations

import re
from typing import Any, Callable

from benchmarks.humansense.tasks import MULTI, NUMERIC, SINGLE, YES_NO

SCORERS: tuple[str, ...] = ("published", "robust")
ABNORMAL = "Abnormal_Recognition"
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)

Credit = float | int | None
"""Credit for one item; None = not scored (not counted in ``total``)."""


def _one_or_more(model_answer: str, correct: str) -> float | int:
    """Published multi-choice credit: any character outside the answer → 0; all answer letters → 1; else 0.5."""
    for ch in model_answer:
        if ch not in correct:
            return 0
    return 1 if all(a in model_answer for a in correct) else 0.5


def _strip(text: str, chars: str) -> str:
    for ch in chars:
        text = text.replace(ch, "")
    return text


def _plain(q: dict[str, Any], response: str) -> Credit:
    """score.py: first-character comparisons; Abnormal_Recognition is left out by the caller."""
    pattern = q.get("question_pattern")
    answer = str(q["answer"])
    if pattern == SINGLE:
        return int(response[0].lower() == answer[0].lower())
    if pattern == NUMERIC:
        try:
            return int(int(answer) == int(response[0]))
        except ValueError:
            return 0
    if pattern == YES_NO:
        said = _strip(response, ". ")
        return int(answer.lower() == said.lower()) if said else None
    if pattern == MULTI:
        said = _strip(response, ".,").lower()
        return _one_or_more(said, answer.lower()) if said else None
    return None


def _one_choice(correct_letter: str, model_answer: str, option: str) -> int:
    """score_think.py's single-choice check: a letter a–d, "x. text" or the option's text itself ('e' alone is text)."""
    letter = correct_letter[0].strip().lower()
    solution = option.split(".", 1)[1].strip().lower()
    said = model_answer.strip().lower()
    if said in ("a", "b", "c", "d"):
        return int(letter == said)
    if said.startswith(("a.", "b.", "c.", "d.")):
        le, value = said.split(".", 1)
        return int(le.strip() == letter or _strip(value.strip(), ".,，") == _strip(solution, ".,，"))
    return int(_strip(said.strip(), ".,，") == _strip(solution, ".,，"))


def _option_of(q: dict[str, Any]) -> str:
    return q["options"]["abcde".index(str(q["answer"])[0].lower())]


def _reasoning(q: dict[str, Any], response: str) -> Credit:
    """score_think.py: the text inside <answer>…</answer> when present, else the raw response.

    Yes/no (as in antgroup/HumanSense's score_think.py): a tagged response is compared
    whole, tags included, so it is counted and never right; an untagged one is not scored.
    Where the published script would crash (non-digit numeric answer, an answer letter
    without its option), the item counts as answered and wrong.
    """
    pattern = q.get("question_pattern")
    answer = str(q["answer"])
    tagged = _ANSWER_TAG.search(response)
    if tagged:
        said = tagged.group(1).strip()
        if pattern == SINGLE:
            return _one_choice(answer, said, _option_of(q))
        if pattern == NUMERIC:
            return int(int(answer) == int(said[0]))
        if pattern == YES_NO:
            whole = _strip(response, ". ")
            return int(answer.lower() == whole.lower()) if whole else None
        if pattern == MULTI:
            return _one_or_more(_strip(said, ".,， ").lower(), _strip(answer, ".,， ").lower())
        return None
    if pattern == MULTI:
        return _one_or_more(_strip(response, ".,， \n").lower(), _strip(answer, ".,， ").lower())
    if pattern == NUMERIC:
        return int(int(answer) == int(response[0]))
    if pattern == SINGLE:
        return _one_choice(answer, response[0], _option_of(q))
    return None


_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}


def intended_text(response: str) -> str:
    """What the model meant as its answer: the <answer> tag's text, else the response without its <think> part."""
    tagged = _ANSWER_TAG.search(response)
    return (tagged.group(1) if tagged else _THINK.sub(" ", response)).strip()


def _option_texts(q: dict[str, Any]) -> list[str]:
    return [re.sub(r"^\s*[A-Ea-e]\s*[.):：]\s*", "", o).strip().lower() for o in q.get("options") or []]


def intended_letters(q: dict[str, Any], text: str) -> str:
    """Option letters the text picks: "B", "(B)", "B) …", "The answer is B.", "b", "A, C", or an option's text."""
    letters = "ABCDE"[:len(q.get("options") or [])]
    if not letters:
        return ""
    t = text.strip()
    compact = re.sub(r"[\s,.;:&()\[\]/]|and", "", t, flags=re.IGNORECASE)
    # A run of lowercase letters counts only when ascending ("ac"), so words like "bad" are not read as letters.
    plausible = len(compact) == 1 or compact.isupper() or re.search(r"[\s,;&/]", t) or list(compact) == sorted(set(compact))
    if compact and plausible and len(compact) <= len(letters) and all(c.upper() in letters for c in compact):
        return "".join(sorted(set(compact.upper())))
    m = re.search(r"answers?\s*(?:is|are|:)?\s*[:(\[]?\s*([A-E](?:\s*(?:,|and|&)?\s*[A-E])*)\b", t, re.IGNORECASE)
    if m:
        found = {c.upper() for c in re.findall(r"[A-Ea-e]", re.sub(r"and", "", m.group(1), flags=re.I))}
        if found and found <= set(letters):
            return "".join(sorted(found))
    m = re.match(r"\s*\(?([A-E])\s*[.):：]", t)
    if m and m.group(1) in letters:
        return m.group(1)
    bracketed = set(re.findall(r"\(([A-E])\)", t))
    if bracketed and bracketed <= set(letters):
        return "".join(sorted(bracketed))
    low = t.lower()
    by_text = {letters[i] for i, o in enumerate(_option_texts(q)) if o and o in low}
    if by_text:
        return "".join(sorted(by_text))
    standalone = set(re.findall(r"\b([A-E])\b", t)) & set(letters)
    return "".join(sorted(standalone))


def _robust(q: dict[str, Any], response: str) -> Credit:
    pattern = q.get("question_pattern")
    answer = str(q["answer"]).strip()
    text = intended_text(response)
    if pattern == SINGLE:
        picked = intended_letters(q, text)
        return int(len(picked) == 1 and picked == answer[0].upper())
    if pattern == MULTI:
        picked = intended_letters(q, text)
        return _one_or_more(picked, _strip(answer, ".,， ").upper()) if picked else 0
    if pattern == NUMERIC:
        m = re.search(r"-?\d+", text)
        value = int(m.group()) if m else next(
            (v for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", text, re.I)), None)
        return int(value is not None and value == int(answer))
    if pattern == YES_NO:
        m = re.search(r"\b(yes|no)\b", text, re.IGNORECASE)
        return int(bool(m) and m.group(1).lower() == answer.lower())
    return None


def score(data: list[Any], model: str, *, reasoning: bool = False, scorer: str = "published") -> dict[str, dict[str, Any]]:
    """Per-task and overall accuracy of ``model``'s answers in a results list."""
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; choose one of {', '.join(SCORERS)}")
    rule: Callable[[dict[str, Any], str], Credit]
    rule = _robust if scorer == "robust" else _reasoning if reasoning else _plain
    skip_abnormal = scorer == "published" and not reasoning
    stats: dict[str, dict[str, Any]] = {}
    for element in data:
        q = element.get("questions") if isinstance(element, dict) else None
        if not isinstance(q, dict) or not isinstance(q.get("task_type"), str) or "answer" not in q:
            continue
        task = q["task_type"]
        response = q.get(model)
        if skip_abnormal and task == ABNORMAL:
            continue
        if not response:
            continue
        try:
            credit = rule(q, str(response))
        except (ValueError, IndexError, KeyError, TypeError, AttributeError):
            credit = 0  # where the published script would crash: answered and wrong
        if credit is None:
            continue
        entry = stats.setdefault(task, {"total": 0, "correct": 0})
        entry["total"] += 1
        entry["correct"] += credit
    for entry in stats.values():
        entry["accuracy"] = entry["correct"] / entry["total"] if entry["total"] else 0
    total = sum(e["total"] for e in stats.values())
    correct = sum(e["correct"] for e in stats.values())
    stats["all"] = {"total": total, "correct": correct, "accuracy": correct / total if total else 0}
    return stats
