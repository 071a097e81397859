"""The report: our scores in the paper's column order beside Table 1, as Markdown, a self-contained HTML page and a PNG."""
from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.files import atomic_write_bytes
from agent.files import read_json
from benchmarks.humansense.tasks import AVG_COLUMNS, COLUMNS, column_of

CHART_REFERENCES: tuple[str, ...] = ("Qwen2.5-Omni-7B", "GPT-4o", "InternVL3-8B")
"""Table 1 rows (full split) drawn beside ours in the bar chart."""


@dataclass(frozen=True)
class Row:
    """One table row: accuracy per column (None = not measured) and the paper-style average."""
    model: str
    source: str
    values: dict[str, float | None]
    avg: float | None
    avg_complete: bool
    unknown: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def average(values: dict[str, float | None]) -> tuple[float | None, bool]:
    """Unweighted mean of the 13 video columns present; the flag says whether all 13 were."""
    present = [values[c] for c in AVG_COLUMNS if values.get(c) is not None]
    if not present:
        return None, False
    return sum(present) / len(present), len(present) == len(AVG_COLUMNS)  # type: ignore[arg-type]


def _number(task: str, entry: dict[str, Any], key: str) -> float:
    value = entry.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{task}.{key} is {value!r}, not a number")
    return float(value)


def row_from_scores(label: str, scores: dict[str, Any]) -> Row:
    """Map a scores file's task_type keys to columns (several types on one column are pooled); unknown ones kept apart.

    Raises ValueError naming the task whose total, correct or accuracy is not a number."""
    pooled: dict[str, list[float]] = {}
    unknown: dict[str, float] = {}
    for task, entry in scores.items():
        if task == "all" or not isinstance(entry, dict) or "total" not in entry:
            continue
        col = column_of(task)
        if col is None:
            unknown[task] = _number(task, entry, "accuracy")
            continue
        acc = pooled.setdefault(col, [0.0, 0.0])
        acc[0] += _number(task, entry, "correct")
        acc[1] += _number(task, entry, "total")
    values: dict[str, float | None] = {c: (pooled[c][0] / pooled[c][1] if c in pooled and pooled[c][1] else None)
                                       for c in COLUMNS}
    avg, complete = average(values)
    counts = {c: int(pooled[c][1]) for c in pooled}
    return Row(label, "ours", values, avg, complete, unknown, counts)


def paper_rows(path: Path | None = None) -> list[Row]:
    """Table 1 of the paper (see NOTICE.md), with its own printed Avg."""
    path = path or Path(__file__).with_name("paper_table1.csv")
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for rec in csv.DictReader(handle):
            values = {c: float(rec[c]) if rec.get(c) else None for c in COLUMNS}
            avg = float(rec["Avg"]) if rec.get("Avg") else None
            rows.append(Row(rec["model"], f"paper ({rec['split']})", values, avg, avg is not None))
    return rows


def load_row(path: str | Path) -> Row:
    """A scores file as a table row labelled by its file name; every error names the file."""
    scores = read_json(path, "scores file (task_type -> total/correct/accuracy)", dict)
    try:
        return row_from_scores(Path(path).stem, scores)
    except ValueError as exc:
        raise ValueError(f"{path}: not a scores file as `score` writes it ({exc})") from None


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _avg_text(row: Row) -> str:
    return _fmt(row.avg) + ("" if row.avg_complete or row.avg is None else "*")


def markdown(ours: list[Row], paper: list[Row]) -> str:
    head = "| model | source | Avg | " + " | ".join(COLUMNS) + " |"
    sep = "|" + "---|" * (len(COLUMNS) + 3)
    lines = ["# HumanSense results", "", head, sep]
    for row in ours + paper:
        cells = [row.model, row.source, _avg_text(row)] + [_fmt(row.values.get(c)) for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Avg = unweighted mean of the 13 video tasks (FR2 and PC left out), as in the paper; "
              "* = fewer than 13 of them were measured, mean of those present. "
              "Paper rows print the paper's own Avg."]
    for row in ours:
        if row.unknown:
            lines += ["", f"Unknown task types in {row.model} (not in any column):"]
            lines += [f"- `{task}`: {acc:.3f}" for task, acc in sorted(row.unknown.items())]
    return "\n".join(lines) + "\n"


def chart_png(ours: list[Row], paper: list[Row]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    refs = [r for r in paper if r.source == "paper (full)" and r.model in CHART_REFERENCES]
    rows = ours + refs
    cols = list(COLUMNS) + ["Avg"]
    x = np.arange(len(cols))
    width = 0.8 / max(1, len(rows))
    fig, ax = plt.subplots(figsize=(14, 4.5), dpi=100)
    for i, row in enumerate(rows):
        vals = [row.values.get(c) if c != "Avg" else row.avg for c in cols]
        ax.bar(x + i * width - 0.4 + width / 2, [v if v is not None else 0 for v in vals], width,
               label=f"{row.model} ({row.source})")
    ax.set_xticks(x, cols)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title("HumanSense: ours beside Table 1")
    ax.legend(fontsize=8, ncols=2)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def html_page(ours: list[Row], paper: list[Row], png: bytes) -> str:
    def cells(row: Row) -> str:
        tds = [html.escape(row.model), html.escape(row.source), _avg_text(row)]
        tds += [_fmt(row.values.get(c)) for c in COLUMNS]
        cls = ' class="ours"' if row.source == "ours" else ""
        return f"<tr{cls}>" + "".join(f"<td>{t}</td>" for t in tds) + "</tr>"

    head = "".join(f"<th>{h}</th>" for h in ["model", "source", "Avg", *COLUMNS])
    unknown = "".join(
        f"<p>Unknown task types in {html.escape(r.model)}: "
        + ", ".join(f"<code>{html.escape(t)}</code> {a:.3f}" for t, a in sorted(r.unknown.items())) + "</p>"
        for r in ours if r.unknown)
    img = base64.b64encode(png).decode("ascii")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>HumanSense results</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
            "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,td:nth-child(2){text-align:left}"
            "tr.ours{background:#eef6ff;font-weight:bold}img{max-width:100%}</style></head><body>"
            "<h1>HumanSense results</h1>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(cells(r) for r in ours + paper)}</tbody></table>"
            "<p>Avg = unweighted mean of the 13 video tasks (FR2 and PC left out), as in the paper; * = fewer than 13 "
            "measured. Paper rows: Table 1 of Qin et al., arXiv 2508.10576.</p>"
            f"{unknown}<img alt='bar chart' src='data:image/png;base64,{img}'></body></html>\n")


def write_report(score_files: list[str | Path], out_dir: str | Path) -> dict[str, Path]:
    """report.md, report.html (self-contained) and report.png in ``out_dir``; rows labelled by file stem."""
    ours = [load_row(f) for f in score_files]
    paper = paper_rows()
    out = Path(out_dir)
    png = chart_png(ours, paper)
    paths = {"markdown": out / "report.md", "html": out / "report.html", "png": out / "report.png"}
    atomic_write_bytes(paths["markdown"], markdown(ours, paper).encode("utf-8"))
    atomic_write_bytes(paths["html"], html_page(ours, paper, png).encode("utf-8"))
    atomic_write_bytes(paths["png"], png)
    return paths
