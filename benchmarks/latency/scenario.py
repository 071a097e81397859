"""Scenario scripts: the small declarative line format, its parser and the suites under benchmarks/scenarios/.

Format (one directive per line, ``#`` starts a comment)::

    suite quick            # quick (also part of full) or full; default full
    set tune               # tune (scenarios to tune on) or report (held out, to report on); default report
    agent_latency 1.2      # seconds the agent is expected to take to start answering (anchors the `... after`s)
    pause 1.0              # user silent for 1.0 s
    user: Hi there.        # the user says this line
    hesitate 0.8           # a mid-turn pause: the next `user:` line continues the same turn (the lines are
                           # spoken as one sentence and cut apart, so each fragment ends mid-sentence)
    interrupt after 0.8    # the next `user:` line starts 0.8 s after the agent is expected to start answering
    backchannel after 0.9: yeah         # a soft listener word over the agent's answer (default -9 dB re a user line,
                                        # by loudness: render.speech_level_db)
    cough after 1.4                     # a synthetic cough over the agent's answer (default 0 dB)
    false_interrupt after 1.0: hmm      # a short sound at full level, then nothing (default 0 dB)
    backchannel after 0.9 -12dB: mm-hm  # any of the three takes an optional level in dB re a user line
    silence 12             # a silent (distressed) user: a window where the agent may answer proactively

``interrupt``, ``backchannel``, ``cough`` and ``false_interrupt`` count their seconds from the end of the last
user turn plus ``agent_latency``; several may follow one turn, in time order. Backchannels, coughs and false
interruptions are not user turns: the ground truth lists them as overlaps. A false interruption must be
followed by ``pause`` or ``silence``. A script must say something and end with ``pause`` or ``silence`` so
the agent has time to answer.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SUITES: tuple[str, ...] = ("quick", "full")
SPLITS: tuple[str, ...] = ("tune", "report")
OVERLAP_KINDS: tuple[str, ...] = ("backchannel", "cough", "false_interrupt")
DEFAULT_LEVEL_DB: dict[str, float] = {"backchannel": -9.0, "cough": 0.0, "false_interrupt": 0.0}
"""Listeners' backchannels are quieter than their turns; a cough or a false start is not."""
LEVEL_RANGE_DB = (-40.0, 3.0)

StepKind = Literal["user", "pause", "hesitate", "silence", "interrupt", "backchannel", "cough", "false_interrupt"]
_LEVEL = re.compile(r"^([+-]?\d+(?:\.\d+)?)db$", re.IGNORECASE)


class ScenarioError(ValueError):
    """A scenario script problem, worded ``file:line: reason``."""


@dataclass(frozen=True)
class Step:
    """One directive: ``text`` for user lines and spoken overlaps, ``seconds`` for the others, ``level_db`` for
    overlaps; ``line`` is 1-based."""
    kind: StepKind
    line: int
    seconds: float = 0.0
    text: str = ""
    level_db: float = 0.0


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    text: str
    steps: tuple[Step, ...]
    suite: str = "full"
    agent_latency: float = 1.2
    split: str = "report"

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


def _overlap(where: str, word: str, line: str, number: int) -> Step:
    """``WORD after SECONDS [LEVELdB][: WORDS]``: words for a backchannel or false interruption, none for a cough."""
    head, colon, said = line.partition(":")
    said = said.strip()
    args = head.split()[1:]
    usage = f"`{word} after SECONDS [LEVELdB]" + ("`" if word == "cough" else ": WORDS`")
    if len(args) not in (2, 3) or args[0].lower() != "after":
        raise ScenarioError(f"{where}: expected {usage}")
    seconds = _seconds(where, f"{word} after", args[1])
    level = DEFAULT_LEVEL_DB[word]
    if len(args) == 3:
        match = _LEVEL.match(args[2])
        if not match:
            raise ScenarioError(f"{where}: {word}: level {args[2]!r} must be decibels like -12dB")
        level = float(match.group(1))
        if not LEVEL_RANGE_DB[0] <= level <= LEVEL_RANGE_DB[1]:
            raise ScenarioError(f"{where}: {word}: level {args[2]} must be within "
                                f"{LEVEL_RANGE_DB[0]:g}..{LEVEL_RANGE_DB[1]:+g} dB")
    if word == "cough" and colon:
        raise ScenarioError(f"{where}: cough takes no words (it is a synthetic sound)")
    if word != "cough" and not said:
        raise ScenarioError(f"{where}: {word} needs the words it says, e.g. {usage}")
    return Step(word, number, seconds=seconds, text=said, level_db=level)  # type: ignore[arg-type]


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Parse a script; raises :class:`ScenarioError` naming ``path:line`` and the reason."""
    steps: list[Step] = []
    suite, split = "full", "report"
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
        elif word == "interrupt" or word.rstrip(":") in OVERLAP_KINDS:
            word = word.rstrip(":")
            if not any(s.kind == "user" for s in steps):
                raise ScenarioError(f"{where}: {word} needs an earlier user: line for the agent to answer")
            if word in OVERLAP_KINDS:
                steps.append(_overlap(where, word, line, number))
            elif len(args) != 2 or args[0].lower() != "after":
                raise ScenarioError(f"{where}: expected `interrupt after SECONDS`")
            else:
                steps.append(Step("interrupt", number, seconds=_seconds(where, "interrupt after", args[1])))
        elif word == "suite":
            if len(args) != 1 or args[0] not in SUITES:
                raise ScenarioError(f"{where}: suite must be one of {', '.join(SUITES)}")
            suite = args[0]
        elif word == "set":
            if len(args) != 1 or args[0] not in SPLITS:
                raise ScenarioError(f"{where}: set must be one of {', '.join(SPLITS)}")
            split = args[0]
        elif word == "agent_latency":
            if len(args) != 1:
                raise ScenarioError(f"{where}: agent_latency takes one number of seconds")
            agent_latency = _seconds(where, word, args[0])
        else:
            raise ScenarioError(f"{where}: unknown directive {word!r} (expected user:, pause, hesitate, "
                                "interrupt after, backchannel after, cough after, false_interrupt after, silence, "
                                "suite, set, agent_latency)")
    for before, after in zip(steps, steps[1:]):
        if before.kind in ("hesitate", "interrupt") and after.kind != "user":
            raise ScenarioError(f"{path}:{after.line}: {before.kind} (line {before.line}) must be followed by "
                                "a user: line")
        if before.kind == "false_interrupt" and after.kind not in ("pause", "silence"):
            raise ScenarioError(f"{path}:{after.line}: false_interrupt (line {before.line}) must be followed by "
                                "pause or silence (the user says nothing after it)")
    if not any(s.kind == "user" for s in steps):
        raise ScenarioError(f"{path}:1: the scenario has no user: line")
    if steps[-1].kind not in ("pause", "silence"):
        raise ScenarioError(f"{path}:{steps[-1].line}: the scenario must end with pause or silence "
                            "so the agent has time to answer")
    return Scenario(name=Path(path).stem, path=path, text=text, steps=tuple(steps),
                    suite=suite, agent_latency=agent_latency, split=split)


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: scenario file not found") from None
    return parse_scenario(text, str(p))


def load_suite(suite: str, directory: Path = SCENARIO_DIR, split: str = "all") -> list[Scenario]:
    """The scenarios of a suite, by file name; ``full`` holds every scenario, ``quick`` only those marked quick.

    ``split`` keeps only the ``tune`` or the ``report`` set (``all``: both); an empty selection is an error.
    """
    if suite not in SUITES:
        raise ValueError(f"suite {suite!r}: choose one of {', '.join(SUITES)}")
    if split not in SPLITS + ("all",):
        raise ValueError(f"set {split!r}: choose one of {', '.join(SPLITS)}, all")
    scenarios = [load_scenario(p) for p in sorted(directory.glob("*.txt"))]
    if not scenarios:
        raise FileNotFoundError(f"{directory}: no *.txt scenarios")
    chosen = [s for s in scenarios if (suite == "full" or s.suite == "quick") and split in ("all", s.split)]
    if not chosen:
        raise ValueError(f"{directory}: no scenario in suite {suite} belongs to set {split}")
    return chosen
