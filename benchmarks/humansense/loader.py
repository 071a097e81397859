"""Loading HumanSense_VQA.json / HumanSense_AQA.json: every item validated, bad ones reported by index and field."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.files import read_json
from benchmarks.humansense.tasks import MULTI, NUMERIC, PATTERNS, SINGLE, YES_NO, column_of

logger = logging.getLogger(__name__)

_LETTERS = "ABCDE"


@dataclass(frozen=True)
class Problem:
    """Why one item was skipped at load time."""
    index: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"item {self.index}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Item:
    """One valid item; ``raw`` is the element of the published list itself (answers are written into it)."""
    index: int
    raw: dict[str, Any] = field(repr=False, compare=False)
    media_path: Path

    @property
    def q(self) -> dict[str, Any]:
        return self.raw["questions"]

    @property
    def video_path(self) -> str:
        return self.raw["video_path"]

    @property
    def question(self) -> str:
        return self.q["question"]

    @property
    def task_type(self) -> str:
        return self.q["task_type"]

    @property
    def column(self) -> str | None:
        return column_of(self.task_type)

    @property
    def pattern(self) -> str:
        return self.q["question_pattern"]

    @property
    def options(self) -> list[str]:
        return list(self.q.get("options") or [])

    @property
    def answer(self) -> str:
        return str(self.q["answer"])


@dataclass(frozen=True)
class Dataset:
    """The whole published list (``data``, bad items included and untouched) and the valid items in it."""
    path: Path
    data: list[Any] = field(repr=False)
    items: tuple[Item, ...]
    problems: tuple[Problem, ...]


def _is_positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def validate(index: int, element: Any) -> list[Problem]:
    """Every problem of one element of the published list (empty when it can be run and scored)."""
    def bad(fld: str, msg: str) -> list[Problem]:
        return [Problem(index, fld, msg)]

    if not isinstance(element, dict):
        return bad("item", f"expected an object, got {type(element).__name__}")
    video_path = element.get("video_path")
    if not isinstance(video_path, str) or not video_path.strip():
        return bad("video_path", "missing or not a non-empty string")
    q = element.get("questions")
    if not isinstance(q, dict):
        return bad("questions", "missing or not an object")
    for name in ("question", "task_type"):
        if not isinstance(q.get(name), str) or not q[name].strip():
            return bad(f"questions.{name}", "missing or not a non-empty string")
    pattern = q.get("question_pattern")
    if pattern not in PATTERNS:
        return bad("questions.question_pattern", f"unknown pattern {pattern!r}")
    answer = q.get("answer")
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = str(answer)
    if not isinstance(answer, str) or not answer.strip():
        return bad("questions.answer", "missing or not a non-empty string")
    options = q.get("options")
    if pattern in (SINGLE, MULTI):
        if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
            return bad("questions.options", "missing or not a list of non-empty strings")
        wanted = "4" if pattern == MULTI else "2–5"
        if (pattern == MULTI and len(options) != 4) or not 2 <= len(options) <= 5:
            return bad("questions.options", f"{len(options)} options; this pattern takes {wanted}")
        letters = _LETTERS[:len(options)]
        given = answer.strip().upper()
        if pattern == SINGLE and given[0] not in letters:
            return bad("questions.answer", f"{answer!r} is not one of the option letters {letters}")
        if pattern == MULTI and not set(re.sub(r"[\s,.]", "", given)) <= set(letters):
            return bad("questions.answer", f"{answer!r} is not a set of the option letters {letters}")
    elif pattern == NUMERIC:
        if not re.fullmatch(r"\s*\d+\s*", answer):
            return bad("questions.answer", f"{answer!r} is not a whole number")
    elif pattern == YES_NO and answer.strip().lower() not in ("yes", "no"):
        return bad("questions.answer", f"{answer!r} is not Yes or No")
    for name in ("full_frame_number", "fps"):
        if name in q and not _is_positive_number(q[name]):
            return bad(f"questions.{name}", f"{q[name]!r} is not a positive number")
    if "asr_en" in q and not isinstance(q["asr_en"], str):
        return bad("questions.asr_en", "not a string")
    return []


def load_dataset(path: str | Path, data_root: str | Path) -> Dataset:
    """Read a published JSON list; media paths resolve against ``data_root``; unknown keys are kept."""
    path = Path(path)
    data = read_json(path, "data file (a list of items)", list)
    root = Path(data_root)
    items: list[Item] = []
    problems: list[Problem] = []
    for index, element in enumerate(data):
        found = validate(index, element)
        if found:
            problems.extend(found)
            for problem in found:
                logger.info("%s: skipped %s", path, problem)
            continue
        items.append(Item(index=index, raw=element, media_path=root / element["video_path"]))
    return Dataset(path=path, data=data, items=tuple(items), problems=tuple(problems))
