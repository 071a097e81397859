"""The `humansense empathy` subcommand: run the labelled empathy cases, print one line, write the report."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from floor import one_line

DESCRIPTION = """\
Replay the labelled empathy cases (benchmarks/empathy/cases.json: short conversations with a smiling, neutral
or sad face track) through the real word appraisal, emotion fusion and rolling context to the brain the config
names (cue, llama, openai, transformers: e.g. --config configs/llama-local.toml), and score each reply: does the
agent's emotion match the expected valence, is any reply to negative content cheerful or congratulating, does it
say a forbidden phrase. Rules are tuned on the "tune" half; report the "report" half. Writes DIR/cases.json
(every case's turns as it finishes: run the same command again to resume), DIR/summary.json, DIR/report.md and
DIR/report.html (the per-case table), each naming the brain and model scored."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("empathy", help="score the agent's empathy on labelled short conversations",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                              epilog="example: humansense empathy --config configs/llama-local.toml --out runs/empathy")
    p.add_argument("--split", choices=("report", "tune", "all"), default="report",
                   help="which half of the cases to run (default: report)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument("--cases", type=Path, metavar="FILE", help="cases file (default: the bundled cases.json)")
    p.add_argument("--config", metavar="FILE", help="TOML config (default: configs/embedded.toml)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override one setting, e.g. --set fusion.turn_decay=0.6 (repeatable)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from agent.config import ConfigError, load_config
    from benchmarks.empathy.cases import CASES_FILE, load_cases, select
    from benchmarks.empathy.report import one_line, summarize, write_outputs
    from benchmarks.empathy.session import evaluate

    try:
        config = load_config(args.config, args.set)
        cases = select(load_cases(args.cases or CASES_FILE), args.split)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"humansense: error: {exc}", file=sys.stderr)
        return 2
    try:
        brain, runs = asyncio.run(evaluate(config, cases, args.out))
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"humansense: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    summary = summarize(args.split, runs, brain)
    paths = write_outputs(args.out, summary)
    print(one_line(summary))
    print(f"wrote {paths[-1]}")
    return 0
