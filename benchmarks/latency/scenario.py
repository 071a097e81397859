"""Scenario scripts: the small declarative line format, its parser and the suites under benchmarks/scenarios/.

Format (one directive per line, ``#`` starts a comment)::

    suite quick            # quick (also part of full) or full; default full
    agent_latency 1.2      # seconds the agent is expected to take to start answering (for `interrupt after`)
    pause 1.0              # user silent for 1.0 s
    user: Hi there.        # the user says this line
    hesitate 0.6           # a mid-turn pause: the next `user:` line continues the same turn
    interrupt after 0.8    # the next `user:` line starts 0.8 s after the agent is expected to start answering
    silence 12             # a silent (distressed) user: a window where the agent may answer proactively

A script must say something and end with ``pause`` or ``silence`` so the agent has time to answer.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SUITES: tuple[str, ...] = ("quick", "full")

StepKind = Literal["user", "pause", "hesitate", "silence", "interrupt"]


class ScenarioError(ValueError):
    """A scenario script problem, worded ``file:line: reason``."""


@dataclass(frozen=True)
class Step:
    """One directive: ``text`` for user lines, ``seconds`` for the others; ``line`` is 1-based."""
    kind: StepKind
    line: int
    seconds: float = 0.0
    text: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    text: str
    steps: tuple[Step, ...]
    suite: str = "full"
    agent_latency: float = 1.2

    @property
    def digest(self) -> str:
        """Hash of the script text: the render cache key."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def _seconds(where: str, word: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ScenarioError(f"{where}: {word} needs a number of seconds, got {raw!r}") from None
    if not 0.0 < value <= 600.0:
        raise ScenarioError(f"{where}: {word} {raw}: seconds must be in (0, 600]")
    return value


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Parse a script; raises :class:`ScenarioError` naming ``path:line`` and the reason."""
    steps: list[Step] = []
    suite = "full"
    agent_latency = 1.2
    for number, raw in enumerate(text.splitlines(), start=1):
        where = f"{path}:{number}"
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.lower().startswith("user:"):
            said = line[5:].strip()
            if not said:
                raise ScenarioError(f"{where}: user: line has no text")
            steps.append(Step("user", number, text=said))
            continue
        word, *args = line.split()
        word = word.lower()
        if word in ("pause", "hesitate", "silence"):
            if len(args) != 1:
                raise ScenarioError(f"{where}: {word} takes one number of seconds, e.g. `{word} 1.5`")
            if word == "hesitate" and (not steps or steps[-1].kind != "user"):
                raise ScenarioError(f"{where}: hesitate must follow a user: line (it pauses mid-turn)")
            steps.append(Step(word, number, seconds=_seconds(where, word, args[0])))  # type: ignore[arg-type]
        elif word == "interrupt":
            if len(args) != 2 or args[0].lower() != "after":
                raise ScenarioError(f"{where}: expected `interrupt after SECONDS`")
            if not any(s.kind == "user" for s in steps):
                raise ScenarioError(f"{where}: interrupt needs an earlier user: line for the agent to answer")
            steps.append(Step("interrupt", number, seconds=_seconds(where, "interrupt after", args[1])))
        elif word == "suite":
            if len(args) != 1 or args[0] not in SUITES:
                raise ScenarioError(f"{where}: suite must be one of {', '.join(SUITES)}")
            suite = args[0]
        elif word == "agent_latency":
            if len(args) != 1:
                raise ScenarioError(f"{where}: agent_latency takes one number of seconds")
            agent_latency = _seconds(where, word, args[0])
        else:
            raise ScenarioError(f"{where}: unknown directive {word!r} (expected user:, pause, hesitate, "
                                "interrupt after, silence, suite, agent_latency)")
    for before, after in zip(steps, steps[1:]):
        if before.kind in ("hesitate", "interrupt") and after.kind != "user":
            raise ScenarioError(f"{path}:{after.line}: {before.kind} (line {before.line}) must be followed by a user: line")
    if not any(s.kind == "user" for s in steps):
        raise ScenarioError(f"{path}:1: the scenario has no user: line")
    if steps[-1].kind not in ("pause", "silence"):
        raise ScenarioError(f"{path}:{steps[-1].line}: the scenario must end with pause or silence "
                            "so the agent has time to answer")
    return Scenario(name=Path(path).stem, path=path, text=text, steps=tuple(steps),
                    suite=suite, agent_latency=agent_latency)


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: scenario file not found") from None
    return parse_scenario(text, str(p))


def load_suite(suite: str, directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """The scenarios of a suite, by file name; ``full`` holds every scenario, ``quick`` only those marked quick."""
    if suite not in SUITES:
        raise ValueError(f"suite {suite!r}: choose one of {', '.join(SUITES)}")
    scenarios = [load_scenario(p) for p in sorted(directory.glob("*.txt"))]
    if not scenarios:
        raise FileNotFoundError(f"{directory}: no *.txt scenarios")
    return [s for s in scenarios if suite == "full" or s.suite == "quick"]
