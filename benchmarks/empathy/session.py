"""The evaluation's run: the configured brain built and warmed once, each case in turn, saved as it finishes.

A cue brain is made fresh for each case (its phrasings rotate from a case's first turn,
so every case reads the same whatever ran before it); a model is loaded once. Each
finished case is written to ``cases.json`` at once (atomically), and a run with the same
brain and cases resumes from it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

from agent.config import Config
from agent.files import atomic_write_json, read_json
from benchmarks.empathy.cases import Case
from benchmarks.empathy.runner import TurnResult, run_case
from dialogue.brains import make_brain
from dialogue.types import Brain

CASES_NAME = "cases.json"

Run = tuple[Case, tuple[TurnResult, ...]]


def describe(config: Config, brain: Brain) -> dict[str, str]:
    """Which brain and which model are scored, in words: what every output names."""
    b = config.brain
    generator = getattr(brain, "generator", None)
    if b.backend == "cue":
        model = "rules (no model)"
    elif b.backend == "llama":
        source = getattr(generator, "source", None)
        model = (source.name if source is not None else b.model) + (
            f" (as {b.requantize})" if b.requantize != "none" else "")
    elif b.backend == "openai":
        model = f"{b.model} at {b.base_url}"
    else:
        model = b.model
    return {"backend": b.backend, "name": brain.name, "model": model, "structured": b.structured,
            "reasoning": b.reasoning}


def _load(path: Path, brain: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The cases a previous run with this brain finished (none when there is no file or it scored another brain)."""
    if not path.exists():
        return {}
    saved = read_json(path, "empathy results file", dict)
    return saved.get("cases", {}) if saved.get("brain") == brain else {}


def _result(row: dict[str, Any]) -> TurnResult:
    fields = {f.name for f in dataclasses.fields(TurnResult)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items() if k in fields}
    return TurnResult(**values)


async def evaluate(config: Config, cases: Sequence[Case], out: Path) -> tuple[dict[str, str], list[Run]]:
    """Every case answered by the configured brain: (what was scored, the runs in case order)."""
    fresh_per_case = config.brain.backend == "cue"
    brain = make_brain(config.brain, config.policy)
    info = describe(config, brain)
    path = Path(out) / CASES_NAME
    done = _load(path, info)
    runs: list[Run] = []
    if not fresh_per_case:
        await brain.warm_up()
    try:
        for case in cases:
            if case.id in done:
                runs.append((case, tuple(_result(r) for r in done[case.id])))
                continue
            case_brain = make_brain(config.brain, config.policy) if fresh_per_case else brain
            results = await run_case(case, config, case_brain)
            runs.append((case, results))
            done[case.id] = [dataclasses.asdict(r) for r in results]
            atomic_write_json(path, {"brain": info, "cases": done})
    finally:
        await brain.aclose()
    return info, runs
