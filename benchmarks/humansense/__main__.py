"""`python -m benchmarks.humansense eval|score|report`: the same subcommands without the agent CLI."""
from __future__ import annotations

import argparse
import logging
import sys

from benchmarks.humansense.cli import register_eval, register_report, register_score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.humansense",
                                     description="HumanSense offline mode: eval, score, report.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in (register_eval, register_score, register_report):
        register(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2), format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
