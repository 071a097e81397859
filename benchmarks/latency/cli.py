"""The `humansense bench` subcommand: argument parsing, progress and printed results."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchmarks.hog import cpu_hog
from benchmarks.latency.bench import DEFAULT_CACHE, BenchOptions, run_suite, run_sweep
from benchmarks.latency.compare import compare, load_summary
from benchmarks.latency.report import overlap_table, turn_taking_table
from benchmarks.latency.scenario import SCENARIO_DIR, SPLITS, SUITES, ScenarioError

DESCRIPTION = """\
Measure voice-to-voice latency against ground truth. Each scenario in benchmarks/scenarios/*.txt is rendered
once to a WAV in a distinct user voice (cached by script hash, with the exact start and end of every user
utterance beside it), replayed through `humansense replay` in a subprocess per run, and measured from the
recording: voice-to-voice, stage times, false cut-ins, barge-in stop time, unanswered turns, lost words (the
whole turn's words missing from its transcript), whether backchannels and coughs over the agent stopped it and
whether it resumed after a false interruption, loop lag, CPU and peak RSS; all of it per scenario set (tune on
the tune set, report the report set). Writes DIR/summary.json, DIR/turns.json, DIR/overlaps.json,
DIR/waterfall.png, DIR/distribution.png and a self-contained DIR/report.html (plus compare.json/.png with
--compare, sweep.json/.png with --sweep, components.json/.png with --components). --hog N runs N busy processes
beside the whole bench (a shared machine; compare its v2v with a quiet run's). The scenario format is described in
benchmarks/latency/scenario.py and README.md."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("bench", help="latency benchmark over scripted conversations",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                              epilog="example: humansense bench --suite quick --repeat 2 --out runs/quick  "
                                     "(~9 minutes on 2 CPU cores)")
    p.add_argument("--suite", choices=SUITES, default="quick",
                   help="quick: 5 short scenarios (~4.5 minutes a repeat on 2 CPU cores); full: every scenario")
    p.add_argument("--split", choices=SPLITS + ("all",), default="all",
                   help="only the scenarios of one set: tune (to tune on) or report (held out); default all")
    p.add_argument("--config", help="TOML config the runtime runs with (default configs/embedded.toml)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value for every run, e.g. --set vad.end_of_turn_silence_ms=500 (repeatable)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="replays per scenario (default 1)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument("--compare", type=Path, metavar="OLD_DIR",
                   help="an earlier bench output: print and plot each figure's ratio new/old")
    p.add_argument("--sweep", metavar="KEY=V1,V2,...",
                   help="run the suite once per value of a config key and plot latency against cut-ins")
    p.add_argument("--components", action="store_true",
                   help="instead of replays, microbenchmark VAD, ASR, TTS, face/expression and brain overhead")
    p.add_argument("--brain", action="store_true",
                   help="instead of replays, hold a 10-turn conversation with the configured brain (--config) and time "
                        "each turn: prompt tokens evaluated, request to first words and to first speech; writes "
                        "DIR/brain.json and DIR/brain.png (--repeat, --pace and --compare apply)")
    p.add_argument("--pace", choices=("realtime", "fast"), default="realtime",
                   help="replay media at real time (default, what a user experiences) or as fast as compute allows")
    p.add_argument("--camera", choices=("on", "off"), default="on",
                   help="on (default, the companion's common case): replay each scenario with a video track of a real "
                        "face, so face analysis runs beside the answer; off: audio only")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, metavar="DIR",
                   help=f"where rendered scenarios are cached (default {DEFAULT_CACHE})")
    p.add_argument("--scenarios", type=Path, default=SCENARIO_DIR, metavar="DIR",
                   help="directory of scenario scripts (*.txt; default benchmarks/scenarios)")
    p.add_argument("--hog", type=int, default=0, metavar="N",
                   help="run N busy processes (one core each, same priority) beside the bench, as on a shared "
                        "machine; compare with a quiet run by --compare (default 0)")
    p.set_defaults(func=main)


def _parse_sweep(text: str) -> tuple[str, list[str]]:
    key, _, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not key.strip() or not items:
        raise ValueError(f"--sweep {text!r}: expected key=v1,v2,...")
    return key.strip(), items


def _fmt(value: float | None) -> str:
    """Whole numbers for milliseconds and counts; small fractions (a WER, a few ms) keep 3 digits."""
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.3g}"


def _print_summary(console: Any, summary: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"suite {summary['suite']}, set {summary['split']} "
                        f"({summary['runs']['ok']}/{summary['runs']['total']} runs ok)")
    for col in ("figure", "n", "p50", "p90", "p95", "max"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for name in ("v2v_ms", "endpoint_wait_ms", "asr_ms", "brain_first_token_ms", "brain_first_sentence_ms",
                 "tts_first_audio_ms", "barge_in_stop_ms", "loop_lag_p99_ms", "cpu_s", "rss_mb_peak"):
        fig = summary.get(name) or {}
        table.add_row(name, str(fig.get("n", 0)), *(_fmt(fig.get(p)) for p in ("p50", "p90", "p95", "max")))
    console.print(table)
    b = summary["brain"]
    console.print(f"brain: {b['spoken']} of {b['answers']} answers spoken, {b['parsed']} parsed, {b['fallbacks']} "
                  f"fallbacks, {b['notes']} notes, {b['acknowledged']} acknowledged; first sentence grows "
                  f"{_fmt(b['first_sentence_ms_per_turn']['p50'])} ms a turn (p50 over runs)")
    console.print(f"cut-ins {summary['cut_ins']}  unanswered {summary['unanswered']}  "
                  f"barge-ins {summary['barge_ins']}  proactive {summary['proactive_responses']}")
    for title, (header, rows) in (("turn-taking by set", turn_taking_table(summary)),
                                  ("sounds over the agent (the trace's count in brackets)", overlap_table(summary))):
        if rows:
            breakdown = Table(title=title)
            for col in header:
                breakdown.add_column(col, justify="left" if col == "figure" else "right")
            for row in rows:
                breakdown.add_row(*row)
            console.print(breakdown)
    for f in summary["runs"]["failures"]:
        console.print(f"[red]failed[/red] {f['scenario']} #{f['repetition']}: {f['error']}")


def _print_compare(console: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="new / old")
    for col in ("figure", "old", "new", "ratio"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        table.add_row(r["figure"], _fmt(r["old"]), _fmt(r["new"]), ratio)
    console.print(table)


def _error(message: str) -> int:
    """Bad input: one unwrapped ``humansense: error:`` line (rich would wrap it at the terminal's width); exit 2."""
    print(f"humansense: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)

    def say(message: str) -> None:
        console.print(message, markup=False, highlight=False)

    if args.repeat < 1:
        return _error("--repeat must be at least 1")
    if args.hog < 0:
        return _error("--hog must be 0 or more")
    opts = BenchOptions(suite=args.suite, split=args.split, out=args.out, config=args.config, sets=tuple(args.sets),
                        repeat=args.repeat, pace=args.pace, camera=args.camera == "on", compare_to=args.compare,
                        cache_dir=args.cache,
                        scenario_dir=args.scenarios)
    if args.hog:
        say(f"running beside {args.hog} CPU hog process(es)")
    try:
        with cpu_hog(args.hog):
            return _run(args, opts, console, say)
    except (ScenarioError, FileNotFoundError, ValueError) as exc:
        return _error(str(exc))


def _run_brain(args: argparse.Namespace, console: Any, say: Any) -> None:
    import json

    from agent.config import load_config
    from benchmarks.latency.brain import run_brain_bench

    old = None
    if args.compare:
        path = args.compare / "brain.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: no brain.json to compare with")
        old = json.loads(path.read_text(encoding="utf-8"))["summary"]
    result = run_brain_bench(load_config(args.config, args.sets), args.out, args.repeat, args.pace == "realtime", say)
    s, b = result["summary"], result["brain"]
    console.print(f"{b['name']} ({b['model']}), {result['repeat']} x {s['turns'] // result['repeat']} turns, "
                  f"{s['parsed']}/{s['turns']} parsed, {s['with_notes']} with notes, {s['acknowledged']} acknowledged")
    for key, fig in s["after_first"].items():
        line = f"  {key} after the first turn: p50 {_fmt(fig.get('p50'))}, p90 {_fmt(fig.get('p90'))}, max {_fmt(fig.get('max'))}"
        if old is not None and old["after_first"].get(key, {}).get("p50"):
            line += f" (p50 ratio to {args.compare}: {fig['p50'] / old['after_first'][key]['p50']:.2f})"
        console.print(line)
    console.print(f"  first speech grows {_fmt(s['first_speech_ms_per_turn_slope'])} ms a turn")
    console.print(f"wrote {args.out / 'brain.json'}")


def _run(args: argparse.Namespace, opts: BenchOptions, console: Any, say: Any) -> int:
    """The chosen run; raises ScenarioError, FileNotFoundError or ValueError for a one-line error."""
    if args.brain:
        _run_brain(args, console, say)
        return 0
    if args.components:
        from benchmarks.latency.components import run_components

        results = run_components(args.out, say)
        for name, value in results.items():
            console.print(f"{name}: {value}")
    elif args.sweep:
        key, values = _parse_sweep(args.sweep)
        for p in run_sweep(opts, key, values, say):
            console.print(f"{key}={p['value']}: v2v p50 {_fmt(p['v2v_p50_ms'])} ms, cut-ins {p['cut_ins']}, "
                          f"unanswered {p['unanswered']}, lost words {p['lost_words']}")
    else:
        if args.compare:
            load_summary(args.compare)  # fail before the long run, not after it
        summary = run_suite(opts, say)
        _print_summary(console, summary)
        if args.compare:
            _print_compare(console, compare(summary, load_summary(args.compare)))
    console.print(f"wrote {args.out / 'report.html'}")
    return 0
