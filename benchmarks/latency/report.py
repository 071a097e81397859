"""The self-contained report.html of a bench run (figures embedded as base64 PNGs), and its turn-taking tables."""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Callable

from benchmarks.latency.compare import PERCENTILE_FIGURES
from benchmarks.latency.scenario import OVERLAP_KINDS

COUNTS: tuple[str, ...] = ("turns", "cut_ins", "unanswered", "extra_turns", "lost_words", "barge_ins",
                           "proactive_responses")
Cell = Callable[[dict[str, Any]], str]


def _ms(figure: dict[str, Any] | None, point: str) -> str:
    value = (figure or {}).get(point)
    return "-" if value is None else f"{value:.0f}"


def _count(value: Any) -> str:
    return "-" if value is None else str(value)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else html.escape(str(value))


TURN_FIGURES: tuple[tuple[str, Cell], ...] = (
    ("turns", lambda f: str(f["turns"])),
    ("v2v p50 ms", lambda f: _ms(f["v2v_ms"], "p50")),
    ("v2v p90 ms", lambda f: _ms(f["v2v_ms"], "p90")),
    ("cut-ins", lambda f: str(f["cut_ins"])),
    ("unanswered", lambda f: str(f["unanswered"])),
    ("extra turns", lambda f: str(f["extra_turns"])),
    ("lost words / words", lambda f: f"{f['lost_words']}/{f['words']}"),
    ("turn WER", lambda f: "-" if f["turn_wer"] is None else f"{100 * f['turn_wer']:.1f} %"),
    ("barge-in stop p50 ms", lambda f: _ms(f["barge_in_stop_ms"], "p50")),
    ("barge-in stop p90 ms", lambda f: _ms(f["barge_in_stop_ms"], "p90")),
)
OVERLAP_FIGURES: tuple[tuple[str, Cell], ...] = (
    ("on the agent / n", lambda o: f"{o['over_agent']}/{o['n']}"),
    ("stopped (trace)", lambda o: f"{o['stopped']} ({_count(o['trace_stopped'])})"),
    ("resumed (trace)", lambda o: f"{o['resumed']} ({_count(o['trace_resumed'])})"),
    ("ignored (trace)", lambda o: _count(o["trace_ignored"])),
    ("stop p50 ms", lambda o: _ms(o["stop_ms"], "p50")),
)
"""Stopped and resumed are measured in the recording; the trace's own count is in brackets."""


def _sets(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """("all", the whole summary), then each set the runs covered."""
    return [("all", summary), *summary.get("per_split", {}).items()]


def turn_taking_table(summary: dict[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Header (figure, then each set: all, tune, report) and one row of text per TURN_FIGURES entry."""
    sets = _sets(summary)
    return ("figure", *(name for name, _ in sets)), [(label, *(cell(fig) for _, fig in sets))
                                                      for label, cell in TURN_FIGURES]


def overlap_table(summary: dict[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Like :func:`turn_taking_table`, OVERLAP_FIGURES for each kind of sound the suite has."""
    sets = _sets(summary)
    rows = [(f"{kind}: {label}", *(cell(fig["overlaps"][kind]) for _, fig in sets))
            for kind in OVERLAP_KINDS if summary["overlaps"][kind]["n"] for label, cell in OVERLAP_FIGURES]
    return ("figure", *(name for name, _ in sets)), rows


def _html_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def embed_png(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def render_report(summary: dict[str, Any], pngs: list[Path], compare_rows: list[dict[str, Any]] | None = None) -> str:
    rows = "".join(
        f"<tr><td>{name}</td>" + "".join(f"<td>{_fmt((summary.get(name) or {}).get(p))}</td>"
                                         for p in ("n", "p50", "p90", "p95", "max")) + "</tr>"
        for name in PERCENTILE_FIGURES if summary.get(name))
    counts = "".join(f"<tr><td>{k}</td><td>{_fmt(summary.get(k))}</td></tr>" for k in COUNTS)
    failures = "".join(f"<li>{html.escape(f['scenario'])} #{f['repetition']}: {html.escape(f['error'])}</li>"
                       for f in summary["runs"]["failures"])
    machine = summary["machine"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>humansense latency bench</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}</style>",
        "</head><body>",
        f"<h1>Latency bench: suite {html.escape(summary['suite'])}, set {html.escape(summary['split'])}, "
        f"pace {html.escape(summary['pace'])}, "
        f"repeat {summary['repeat']}</h1>",
        f"<p>{html.escape(str(machine['cpu']))}, {machine['cores']} cores, Python {machine['python']}; "
        f"runs {summary['runs']['ok']} ok / {summary['runs']['total']}; {html.escape(summary['created'])}</p>",
        "<h2>Latency (ms; cpu_s in s, rss in MB)</h2><table><tr><th>figure</th><th>n</th><th>p50</th><th>p90</th>"
        f"<th>p95</th><th>max</th></tr>{rows}</table>",
        f"<h2>Counts</h2><table>{counts}</table>",
        "<h2>Turn-taking by set</h2><p>Tune on the tune set, report the report set. Lost words: words of a "
        "whole user turn missing from its transcript (all of them when no turn was reported); turn WER over all "
        "turns.</p>" + _html_table(*turn_taking_table(summary)),
        "<h2>Sounds over the agent</h2><p>Backchannels and coughs should not stop the agent; after a false "
        "interruption it should resume (or never stop). Stopped and resumed are measured in the recording, among "
        "the sounds that fell on the agent's speech; in brackets the runtime's own account from its trace (- "
        "without a trace).</p>" + _html_table(*overlap_table(summary)),
    ]
    if failures:
        parts.append(f"<h2>Failed runs</h2><ul>{failures}</ul>")
    if compare_rows:
        crow = "".join(f"<tr><td>{html.escape(r['figure'])}</td><td>{_fmt(r['old'])}</td><td>{_fmt(r['new'])}</td>"
                       f"<td>{_fmt(r['ratio'])}</td></tr>" for r in compare_rows)
        parts.append(f"<h2>Compared with an earlier run</h2><table><tr><th>figure</th><th>old</th><th>new</th>"
                     f"<th>new/old</th></tr>{crow}</table>")
    parts += [f"<h2>{html.escape(p.stem)}</h2>{embed_png(p)}" for p in pngs]
    parts.append("</body></html>")
    return "\n".join(parts)


def render_sweep_report(key: str, points: list[dict[str, Any]], png: Path) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(p['value']))}</td><td>{_fmt(p['v2v_p50_ms'])}</td>"
                   f"<td>{_fmt(p['v2v_p90_ms'])}</td><td>{p['cut_ins']}</td><td>{p['unanswered']}</td>"
                   f"<td>{p['lost_words']}</td><td>{p['failed_runs']}</td></tr>" for p in points)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>humansense latency sweep</title></head><body>"
            f"<h1>Sweep of {html.escape(key)}</h1><table border='1'><tr><th>value</th><th>v2v p50 ms</th>"
            f"<th>v2v p90 ms</th><th>cut-ins</th><th>unanswered</th><th>lost words</th><th>failed runs</th></tr>"
            f"{rows}</table>"
            f"{embed_png(png)}</body></html>")
