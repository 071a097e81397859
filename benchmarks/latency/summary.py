"""Aggregate measured runs into summary.json: percentiles per figure, counts, machine and config."""
from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.runtime.metrics import percentiles
from benchmarks.latency.measure import STAGES, RunMeasure, TurnMeasure
from benchmarks.latency.overlaps import OverlapMeasure
from benchmarks.latency.runner import RunResult
from benchmarks.latency.scenario import OVERLAP_KINDS, SPLITS

SCENARIO_FIGURES: tuple[str, ...] = ("turns", "v2v_ms", "cut_ins", "unanswered", "extra_turns", "words", "lost_words",
                                     "turn_wer", "barge_ins", "barge_in_stop_ms", "proactive_responses", "overlaps")
PACKAGES: tuple[str, ...] = ("humansense", "numpy", "onnxruntime", "faster-whisper", "ctranslate2", "hibari-tts",
                             "opencv-python-headless", "av")


@dataclass(frozen=True)
class MeasuredRun:
    """A replay and, when it succeeded, its ground-truth measurement and the runtime's metrics.json; ``split`` is
    its scenario's set (tune or report)."""
    run: RunResult
    measure: RunMeasure | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    split: str = "report"
    answers: tuple[dict[str, Any], ...] = ()  # the runtime's turns.json: what the brain said, and how


def brain_figures(runs: list[MeasuredRun]) -> dict[str, Any]:
    """How the brain answered: every answer's decision and emotion parsed, fallbacks, notes (repairs, errors),
    acknowledgements, and whether the time to its first sentence grows over a conversation (ms a turn)."""
    answers = [a for r in runs for a in r.answers if a.get("trigger") == "end_of_turn"]
    spoken = [a for a in answers if a.get("decision") in ("respond", "backchannel")]
    slopes = []
    for r in runs:
        points = [(i, (a.get("latency_ms") or {}).get("brain_first_sentence")) for i, a in enumerate(r.answers)]
        points = [(i, ms) for i, ms in points if ms is not None]
        if len(points) > 2:
            slopes.append(float(np.polyfit(*zip(*points), 1)[0]))
    return {"answers": len(answers), "spoken": len(spoken),
            "parsed": sum(bool(a.get("decision")) and bool(a.get("agent_emotion")) for a in spoken),
            "fallbacks": sum(bool(a.get("fallback")) for a in answers),
            "notes": sum(len(a.get("notes") or ()) for a in answers),
            "acknowledged": sum(bool(a.get("acknowledgement")) for a in answers),
            "first_sentence_ms_per_turn": percentiles(slopes)}


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0],
            "platform": platform.platform(), "versions": versions}


def _turns(runs: list[MeasuredRun]) -> list[tuple[MeasuredRun, TurnMeasure]]:
    return [(r, t) for r in runs if r.measure for t in r.measure.turns]


def typical_turn(runs: list[MeasuredRun]) -> dict[str, Any] | None:
    """The answered turn with the median voice-to-voice time, with its stage times (for the waterfall)."""
    answered = sorted(((r, t) for r, t in _turns(runs) if t.v2v_ms is not None), key=lambda rt: rt[1].v2v_ms)
    if not answered:
        return None
    run, turn = answered[(len(answered) - 1) // 2]
    return {"scenario": run.run.scenario, "repetition": run.run.repetition, "turn": turn.turn,
            "v2v_ms": turn.v2v_ms, "reported_v2v_ms": turn.reported_v2v_ms, "stages_ms": dict(turn.stages_ms)}


def _trace_count(overlaps: list[OverlapMeasure], attr: str) -> int | None:
    """How many overlaps the trace marks with ``attr``; None when none of their runs wrote a trace."""
    seen = [getattr(o, attr) for o in overlaps if getattr(o, attr) is not None]
    return sum(seen) if seen else None


def overlap_figures(overlaps: list[OverlapMeasure]) -> dict[str, dict[str, Any]]:
    """Per kind: how many overlaps, how many fell on the agent's speech, and of those how many stopped it and
    how many it resumed after; beside them the trace's own counts (over all the kind's overlaps)."""
    out = {}
    for kind in OVERLAP_KINDS:
        mine = [o for o in overlaps if o.kind == kind]
        over = [o for o in mine if o.over_agent]
        out[kind] = {"n": len(mine), "over_agent": len(over), "stopped": sum(o.stopped for o in over),
                     "resumed": sum(o.resumed for o in over), "stop_ms": percentiles(o.stop_ms for o in over),
                     "trace_stopped": _trace_count(mine, "trace_stopped"),
                     "trace_resumed": _trace_count(mine, "trace_resumed"),
                     "trace_ignored": _trace_count(mine, "trace_ignored")}
    return out


def _figures(runs: list[MeasuredRun]) -> dict[str, Any]:
    turns = [t for _, t in _turns(runs)]
    measured = [r.measure for r in runs if r.measure]
    out: dict[str, Any] = {"turns": len(turns), "v2v_ms": percentiles(t.v2v_ms for t in turns)}
    for stage in STAGES:
        out[f"{stage}_ms"] = percentiles(t.stages_ms.get(stage) for t in turns)
    out["reported_v2v_ms"] = percentiles(t.reported_v2v_ms for t in turns)
    out["overhead_ms"] = percentiles(t.overhead_ms for t in turns)
    out["barge_in_stop_ms"] = percentiles(t.barge_in_stop_ms for t in turns)
    # Corpus WER (errors over all reference words), so a misheard one-word "Hi." does not count as much as a sentence.
    # asr_wer scores the turns the runtime reported; turn_wer all of them, an unreported turn as all words wrong.
    out["asr_wer"] = _corpus([(w, t.words) for t in turns if (w := t.word_error_rate) is not None])
    out["turn_wer"] = _corpus([(1.0 if t.word_error_rate is None else t.word_error_rate, t.words) for t in turns])
    out["words"] = sum(t.words for t in turns)
    out["lost_words"] = sum(t.lost_words for t in turns)
    out["cut_ins"] = sum(m.cut_ins for m in measured)
    out["unanswered"] = sum(m.unanswered for m in measured)
    out["extra_turns"] = sum(m.extra_turns for m in measured)
    out["barge_ins"] = sum(m.barge_ins for m in measured)
    out["proactive_responses"] = sum(m.proactive for m in measured)
    out["overlaps"] = overlap_figures([o for m in measured for o in m.overlaps])
    out["brain"] = brain_figures(runs)
    return out


def _corpus(scored: list[tuple[float, int]]) -> float | None:
    words = sum(n for _, n in scored)
    return round(sum(w * n for w, n in scored) / words, 4) if words else None


def summarize(runs: list[MeasuredRun], *, suite: str, pace: str, repeat: int, config: dict[str, Any],
              config_path: str | None, overrides: tuple[str, ...], split: str = "all",
              camera: bool = False) -> dict[str, Any]:
    ok = [r for r in runs if r.run.ok and r.measure]
    summary: dict[str, Any] = {
        "suite": suite, "split": split, "pace": pace, "repeat": repeat, "camera": camera,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "config_file": config_path, "overrides": list(overrides), "config": config,
        "runs": {"total": len(runs), "ok": len(ok), "failed": len(runs) - len(ok),
                 "failures": [{"scenario": r.run.scenario, "repetition": r.run.repetition,
                               "error": r.run.error or "no measurement"} for r in runs if r not in ok]},
    }
    summary.update(_figures(ok))
    lag = [r.metrics.get("loop_lag_ms") or {} for r in ok]
    summary["loop_lag_p99_ms"] = percentiles(x.get("p99") for x in lag)
    summary["loop_lag_max_ms"] = percentiles(x.get("max") for x in lag)
    summary["ready_s"] = percentiles(r.metrics.get("ready_s") for r in ok)
    summary["cpu_s"] = percentiles(r.run.cpu_s for r in ok)
    summary["cpu_percent"] = percentiles(100 * r.run.cpu_s / r.run.wall_s for r in ok if r.run.wall_s > 0)
    summary["rss_mb_peak"] = percentiles(r.run.rss_peak_mb for r in ok)
    summary["typical_turn"] = typical_turn(ok)
    summary["per_split"] = {name: _figures([r for r in ok if r.split == name])
                             for name in SPLITS if any(r.split == name for r in runs)}
    summary["per_scenario"] = {
        name: {k: v for k, v in _figures([r for r in ok if r.run.scenario == name]).items() if k in SCENARIO_FIGURES}
        for name in sorted({r.run.scenario for r in runs})}
    return summary


def write_text(path: Path, text: str) -> None:
    """Write atomically (a half-written summary or report must never be read as a result)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str))
