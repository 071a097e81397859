"""Orchestrate a bench: render the suite, replay each scenario N times, measure, summarize, plot, report, sweep."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from benchmarks.latency import plots
from benchmarks.latency.compare import compare, load_summary
from benchmarks.latency.measure import STAGES, measure, read_recording
from benchmarks.latency.render import GroundTruth, RenderedScenario, render
from benchmarks.latency.report import render_report, render_sweep_report
from benchmarks.latency.runner import RunResult, read_json, read_trace, replay_command, run_command
from benchmarks.latency.scenario import SCENARIO_DIR, load_suite
from benchmarks.latency.summary import MeasuredRun, summarize, write_json, write_text
from floor.cache import cache_dir

DEFAULT_CACHE = cache_dir("scenarios")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    suite: str
    out: Path
    split: str = "all"
    config: str | None = None
    sets: tuple[str, ...] = ()
    repeat: int = 1
    pace: str = "realtime"
    camera: bool = False
    compare_to: Path | None = None
    cache_dir: Path = DEFAULT_CACHE
    scenario_dir: Path = SCENARIO_DIR


def resolved_config(config: str | None, sets: tuple[str, ...]) -> dict[str, Any]:
    """The full config the runs use, or {"error": reason} when it does not load (each run then reports it)."""
    from agent.config import ConfigError, load_config

    try:
        return dataclasses.asdict(load_config(config, list(sets)))
    except (ConfigError, FileNotFoundError) as exc:
        return {"error": str(exc)}


def run_timeout(truth: GroundTruth, pace: str) -> float:
    """Generous: model loading plus the media at real time (or faster), so a hung run is still cut off."""
    return 180.0 + truth.duration_s * (2.0 if pace == "realtime" else 1.0)


def measure_run(rendered: RenderedScenario, result: RunResult) -> MeasuredRun:
    """Measure a finished replay; unreadable outputs turn it into a failed run rather than aborting the suite."""
    split = rendered.scenario.split
    if not result.ok:
        return MeasuredRun(result, split=split)
    try:
        recording = read_recording(result.recording)
        turns = read_json(result.out_dir / "turns.json", [])
        metrics = read_json(result.out_dir / "metrics.json", {})
        trace = read_trace(result.trace)
        return MeasuredRun(result, measure(rendered.truth, recording, turns, trace), metrics, split, tuple(turns))
    except (ValueError, KeyError, TypeError, OSError, RuntimeError) as exc:
        return MeasuredRun(replace(result, ok=False, error=f"could not measure outputs: {exc}"), split=split)


def run_suite(opts: BenchOptions, progress: Progress) -> dict[str, Any]:
    """Render, replay and measure the suite; writes every output file into ``opts.out`` and returns the summary."""
    opts.out.mkdir(parents=True, exist_ok=True)
    scenarios = load_suite(opts.suite, opts.scenario_dir, opts.split)
    rendered = []
    for scenario in scenarios:
        progress(f"render {scenario.name}")
        rendered.append(render(scenario, opts.cache_dir, camera=opts.camera))
    runs: list[MeasuredRun] = []
    for rep in range(opts.repeat):
        for item in rendered:
            progress(f"replay {item.scenario.name} #{rep + 1}/{opts.repeat} ({item.truth.duration_s:.0f} s media)")
            run_dir = opts.out / "runs" / item.scenario.name / f"rep{rep + 1}"
            cmd = replay_command(item.media, run_dir, opts.config, opts.sets, opts.pace)
            result = run_command(cmd, item.scenario.name, rep + 1, run_dir, run_timeout(item.truth, opts.pace))
            measured = measure_run(item, result)
            runs.append(measured)
            progress(f"  {'ok' if measured.run.ok else 'FAILED: ' + measured.run.error}")
    summary = summarize(runs, suite=opts.suite, pace=opts.pace, repeat=opts.repeat, camera=opts.camera,
                        config=resolved_config(opts.config, opts.sets), config_path=opts.config,
                        overrides=opts.sets, split=opts.split)
    write_outputs(opts.out, summary, runs, load_summary(opts.compare_to) if opts.compare_to else None)
    return summary


def _turn_rows(runs: list[MeasuredRun]) -> list[dict[str, Any]]:
    return [{"scenario": r.run.scenario, "repetition": r.run.repetition, "split": r.split, **dataclasses.asdict(t)}
            for r in runs if r.measure for t in r.measure.turns]


def _overlap_rows(runs: list[MeasuredRun]) -> list[dict[str, Any]]:
    return [{"scenario": r.run.scenario, "repetition": r.run.repetition, "split": r.split, **dataclasses.asdict(o)}
            for r in runs if r.measure for o in r.measure.overlaps]


def write_outputs(out: Path, summary: dict[str, Any], runs: list[MeasuredRun],
                  old: dict[str, Any] | None = None) -> list[dict[str, Any]] | None:
    """summary.json, turns.json (every measured turn), overlaps.json (every measured backchannel, cough and false
    interruption), the PNGs, compare.json when ``old`` and report.html."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "summary.json", summary)
    rows = _turn_rows(runs)
    write_json(out / "turns.json", rows)
    write_json(out / "overlaps.json", _overlap_rows(runs))
    pngs = [out / "waterfall.png", out / "distribution.png"]
    plots.waterfall(summary.get("typical_turn"), pngs[0])
    samples = {"v2v": [r["v2v_ms"] for r in rows if r["v2v_ms"] is not None]}
    for stage in STAGES:
        samples[stage] = [r["stages_ms"][stage] for r in rows if r["stages_ms"].get(stage) is not None]
    plots.distribution(samples, pngs[1])
    compare_rows = None
    if old is not None:
        compare_rows = compare(summary, old)
        write_json(out / "compare.json", compare_rows)
        pngs.append(out / "compare.png")
        plots.ratios(compare_rows, pngs[-1])
    write_text(out / "report.html", render_report(summary, pngs, compare_rows))
    return compare_rows


def run_sweep(opts: BenchOptions, key: str, values: list[str], progress: Progress) -> list[dict[str, Any]]:
    """Run the suite once per value of ``key`` (as --set key=value); writes sweep.json, sweep.png, report.html."""
    points = []
    for value in values:
        progress(f"sweep {key}={value}")
        sub = replace(opts, out=opts.out / "sweep" / f"{key}={value}", sets=opts.sets + (f"{key}={value}",),
                      compare_to=None)
        summary = run_suite(sub, progress)
        points.append({"value": value, "out": str(sub.out), "v2v_p50_ms": summary["v2v_ms"]["p50"],
                       "v2v_p90_ms": summary["v2v_ms"]["p90"], "cut_ins": summary["cut_ins"],
                       "unanswered": summary["unanswered"], "lost_words": summary["lost_words"],
                       "failed_runs": summary["runs"]["failed"]})
    write_json(opts.out / "sweep.json", {"key": key, "points": points})
    plots.sweep(key, points, opts.out / "sweep.png")
    write_text(opts.out / "report.html", render_sweep_report(key, points, opts.out / "sweep.png"))
    return points
