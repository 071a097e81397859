"""Ratios of each summary figure to an earlier run's (new / old)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.latency.measure import STAGES

PERCENTILE_FIGURES: tuple[str, ...] = ("v2v_ms", *(f"{s}_ms" for s in STAGES), "barge_in_stop_ms",
                                       "loop_lag_p99_ms", "cpu_s", "rss_mb_peak")
COUNT_FIGURES: tuple[str, ...] = ("cut_ins", "unanswered", "extra_turns", "lost_words", "turn_wer",
                                  "overlaps.backchannel.stopped", "overlaps.cough.stopped",
                                  "overlaps.false_interrupt.resumed")
"""Dotted paths into summary.json."""
POINTS: tuple[str, ...] = ("p50", "p90", "p95", "max")


def load_summary(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / "summary.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no summary.json to compare with")
    return json.loads(path.read_text(encoding="utf-8"))


def _ratio(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return new / old


def _get(summary: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, or None where any part is missing (an older summary)."""
    value: Any = summary
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def compare(new: dict[str, Any], old: dict[str, Any]) -> list[dict[str, Any]]:
    """One row {figure, old, new, ratio} per figure present in either summary; ratio None when undefined."""
    rows: list[dict[str, Any]] = []
    for name in PERCENTILE_FIGURES:
        a, b = new.get(name) or {}, old.get(name) or {}
        for point in POINTS:
            if a.get(point) is None and b.get(point) is None:
                continue
            rows.append({"figure": f"{name}.{point}", "old": b.get(point), "new": a.get(point),
                         "ratio": _ratio(a.get(point), b.get(point))})
    for name in COUNT_FIGURES:
        a, b = _get(new, name), _get(old, name)
        rows.append({"figure": name, "old": b, "new": a, "ratio": _ratio(a, b)})
    return rows
