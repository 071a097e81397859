"""The labelled cases of the empathy evaluation: loading and validating the cases file, one-line errors naming it.

A case is a few user turns, a face track (smiling, neutral, sad or no face, per case and
optionally per turn), an optional voice per turn, the expected valence of the agent's reply
for the scored turns and phrases the reply must not contain. A turn's ``unsure`` phrases are
words of it the recognizer gave a low probability (misheard): the reply must not say them
back, and must ask again when they are most of the turn. Its ``split`` ("tune" or
"report") is fixed in the file: rules are tuned on one half and reported on the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.files import read_json

CASES_FILE = Path(__file__).with_name("cases.json")
SPLITS = ("tune", "report")
FACES = ("smile", "neutral", "sad", "none")
VOICES = ("subdued", "even", "animated")
VALENCES = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Turn:
    user: str
    face: str
    voice: str | None = None
    expect: str | None = None
    forbid: tuple[str, ...] = ()
    unsure: tuple[str, ...] = ()

    @property
    def unsure_marks(self) -> tuple[bool, ...]:
        """Per word of ``user`` (split at spaces): whether the recognizer was unsure of it."""
        return _marks(self.user, self.unsure)

    @property
    def mostly_unsure(self) -> bool:
        """More than half of the words were unsure: the reply must ask to hear them again."""
        marks = self.unsure_marks
        return sum(marks) * 2 > len(marks)


@dataclass(frozen=True)
class Case:
    id: str
    split: str
    topic: str
    turns: tuple[Turn, ...]
    forbid: tuple[str, ...] = ()


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ValueError(f"{where} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _bare(word: str) -> str:
    return word.strip(".,!?;:\"").lower()


def _marks(user: str, phrases: tuple[str, ...]) -> tuple[bool, ...]:
    words = [_bare(w) for w in user.split()]
    marks = [False] * len(words)
    for phrase in phrases:
        target = [_bare(w) for w in phrase.split()]
        for i in range(len(words) - len(target) + 1):
            if words[i:i + len(target)] == target:
                marks[i:i + len(target)] = [True] * len(target)
    return tuple(marks)


def _phrases(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
        raise ValueError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _turn(raw: Any, face: str, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object")
    unknown = set(raw) - {"user", "face", "voice", "expect", "forbid", "unsure"}
    if unknown:
        raise ValueError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    user = raw.get("user")
    if not isinstance(user, str) or not user.strip():
        raise ValueError(f"{where}.user must be a non-empty string")
    unsure = _phrases(raw.get("unsure", []), f"{where}.unsure")
    missing = next((p for p in unsure if not any(_marks(user, (p,)))), None)
    if missing is not None:
        raise ValueError(f"{where}.unsure: {missing!r} is not among the user's words")
    return Turn(
        user=user.strip(), face=_choice(raw.get("face", face), FACES, f"{where}.face"),
        voice=_choice(raw["voice"], VOICES, f"{where}.voice") if "voice" in raw else None,
        expect=_choice(raw["expect"], VALENCES, f"{where}.expect") if "expect" in raw else None,
        forbid=_phrases(raw.get("forbid", []), f"{where}.forbid"), unsure=unsure)


def _case(raw: Any, index: int) -> Case:
    where = f"case {index}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object")
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise ValueError(f"{where}.id must be a non-empty string")
    where = f"case {index} ({case_id})"
    unknown = set(raw) - {"id", "split", "topic", "face", "turns", "forbid"}
    if unknown:
        raise ValueError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    face = _choice(raw.get("face", "none"), FACES, f"{where}.face")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ValueError(f"{where}.turns must be a non-empty list")
    parsed = tuple(_turn(t, face, f"{where}.turns[{i}]") for i, t in enumerate(turns))
    if not any(t.expect for t in parsed):
        raise ValueError(f"{where}: no turn has an 'expect', so nothing would be scored")
    return Case(id=case_id, split=_choice(raw.get("split"), SPLITS, f"{where}.split"),
                topic=str(raw.get("topic", "")), turns=parsed, forbid=_phrases(raw.get("forbid", []), f"{where}.forbid"))


def load_cases(path: str | Path = CASES_FILE) -> tuple[Case, ...]:
    """Every case in ``path``, validated; ValueError/FileNotFoundError with one line naming the file and the problem."""
    data = read_json(path, "empathy cases file", dict)
    raw = data.get("cases")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: expected a non-empty 'cases' list")
    try:
        cases = tuple(_case(c, i) for i, c in enumerate(raw))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise ValueError(f"{path}: case id {case.id!r} appears twice")
        seen.add(case.id)
    return cases


def select(cases: tuple[Case, ...], split: str) -> tuple[Case, ...]:
    """The cases of one split ("tune", "report") or all of them ("all")."""
    return cases if split == "all" else tuple(c for c in cases if c.split == split)
