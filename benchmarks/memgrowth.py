"""Where a long run's Python heap grows: tracemalloc snapshots compared by allocation site, and live objects by type.

Used by the soak benchmarks' ``--trace-malloc``: start tracing, take a snapshot at two marks of the run (after
the warm-up, at the end), and print the allocation sites whose live bytes grew most between them, each named
by the innermost frame in this project's code (``agent/conversation/session.py:123``) with the allocating line beside it,
plus the object types whose live count grew.

    python -m benchmarks.memgrowth serve [humansense serve args]

runs ``humansense serve``, ready to be traced from outside: SIGUSR2 starts tracing (once the models are loaded:
their memory is not what grows, and tracing their loading is slow); each SIGUSR1 then dumps a mark to
``$HUMANSENSE_SNAPSHOT_DIR``: ``N.snap``, ``types-N.json`` and ``N.done`` (N counting from 0), which
:func:`read_mark` loads back.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import sys
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FRAMES = 16  # deep enough to reach project code from numpy / stdlib allocations, cheap enough for minutes of tracing
ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_DIR_ENV = "HUMANSENSE_SNAPSHOT_DIR"
_IGNORED = (tracemalloc.__file__, "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>",
            "<unknown>")


@dataclass(frozen=True)
class Growth:
    """Live bytes gained between two snapshots at one project line (``where``), over ``blocks`` more blocks."""
    where: str
    bytes: int
    blocks: int
    allocated_at: str  # the innermost frame of the largest contributing traceback (may be numpy or stdlib)


@dataclass(frozen=True)
class Mark:
    """One point of a run: its heap snapshot and its live object count per type."""
    snapshot: tracemalloc.Snapshot
    types: Counter[str]


def start(frames: int = FRAMES) -> None:
    if not tracemalloc.is_tracing():
        tracemalloc.start(frames)


def type_counts() -> Counter[str]:
    """Live gc-tracked objects by type name (a full collection first, so garbage does not count as growth)."""
    gc.collect()
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def mark() -> Mark:
    types = type_counts()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, f) for f in _IGNORED])
    return Mark(snapshot, types)


def _is_project(filename: str) -> bool:
    path = Path(filename)
    return path.is_relative_to(ROOT) and ".venv" not in path.parts and path.name != "memgrowth.py"


def _site(frame: tracemalloc.Frame) -> str:
    path = Path(frame.filename)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) and ".venv" not in path.parts else path.name
    return f"{shown}:{frame.lineno}"


def project_frame(traceback: tracemalloc.Traceback) -> tracemalloc.Frame:
    """The innermost frame in this project's code (where to fix it), else the innermost frame."""
    innermost_first = list(reversed(traceback))  # a Traceback runs from the oldest frame to the most recent
    return next((f for f in innermost_first if _is_project(f.filename)), innermost_first[0])


def top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, limit: int = 10) -> list[Growth]:
    """Sites whose live bytes grew most from ``before`` to ``after``, grouped by their innermost project frame."""
    sizes: Counter[str] = Counter()
    blocks: Counter[str] = Counter()
    biggest: dict[str, tuple[int, str]] = {}
    for stat in after.compare_to(before, "traceback"):
        where = _site(project_frame(stat.traceback))
        sizes[where] += stat.size_diff
        blocks[where] += stat.count_diff
        if stat.size_diff > biggest.get(where, (0, ""))[0]:
            biggest[where] = (stat.size_diff, _site(stat.traceback[-1]))
    grown = [(where, size) for where, size in sizes.most_common() if size > 0][:limit]
    return [Growth(where, size, blocks[where], biggest.get(where, (0, where))[1]) for where, size in grown]


def type_growth(before: Counter[str], after: Counter[str], limit: int = 10) -> list[tuple[str, int]]:
    diff = Counter(after)
    diff.subtract(before)
    return [(name, n) for name, n in diff.most_common(limit) if n > 0]


def report(before: Mark, after: Mark, per: int, limit: int = 10) -> dict[str, object]:
    """Growth from ``before`` to ``after`` divided by ``per`` (loops or reconnect cycles between the marks)."""
    per = max(1, per)
    return {"per": per,
            "top_sites": [{"where": g.where, "bytes_per": round(g.bytes / per), "blocks_per": round(g.blocks / per, 1),
                           "allocated_at": g.allocated_at} for g in top_growth(before.snapshot, after.snapshot, limit)],
            "top_types": [{"type": name, "objects_per": round(n / per, 1)}
                          for name, n in type_growth(before.types, after.types, limit)]}


def format_report(growth: dict[str, object], unit: str) -> list[str]:
    """Lines for a terminal: the sites, then the object types, each per ``unit`` (loop, cycle)."""
    lines = [f"Python heap growth per {unit} (tracemalloc, innermost project frame; allocated at):"]
    for s in growth["top_sites"]:  # type: ignore[attr-defined]
        lines.append(f"  {s['bytes_per'] / 1024:9.1f} KiB {s['blocks_per']:8.1f} blocks  {s['where']}"
                     + (f"  ({s['allocated_at']})" if s["allocated_at"] != s["where"] else ""))
    lines.append(f"live objects gained per {unit}:")
    for t in growth["top_types"]:  # type: ignore[attr-defined]
        lines.append(f"  {t['objects_per']:9.1f}  {t['type']}")
    return lines


# ---- tracing a server from outside: dump a mark on SIGUSR1 ---------------------------------------------------------
def _dump_on_signal(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    taken = 0

    def dump(*_: object) -> None:
        nonlocal taken
        m = mark()
        m.snapshot.dump(str(directory / f"{taken}.snap"))
        (directory / f"types-{taken}.json").write_text(json.dumps(m.types), encoding="utf-8")
        (directory / f"{taken}.done").touch()  # the snapshot and counts are complete
        taken += 1
    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGUSR2, lambda *_: start())


def read_mark(directory: Path, n: int) -> Mark:
    types = Counter(json.loads((directory / f"types-{n}.json").read_text(encoding="utf-8")))
    return Mark(tracemalloc.Snapshot.load(str(directory / f"{n}.snap")), types)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _dump_on_signal(Path(os.environ[SNAPSHOT_DIR_ENV]))
    from agent.cli.main import main as humansense

    return humansense(argv)


if __name__ == "__main__":
    sys.exit(main())
