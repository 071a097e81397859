"""The self-contained report.html of a bench run (figures embedded as base64 PNGs)."""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from benchmarks.latency.compare import PERCENTILE_FIGURES

COUNTS: tuple[str, ...] = ("turns", "cut_ins", "unanswered", "barge_ins", "proactive_responses")


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else html.escape(str(value))


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
        f"<h1>Latency bench: suite {html.escape(summary['suite'])}, pace {html.escape(summary['pace'])}, "
        f"repeat {summary['repeat']}</h1>",
        f"<p>{html.escape(str(machine['cpu']))}, {machine['cores']} cores, Python {machine['python']}; "
        f"runs {summary['runs']['ok']} ok / {summary['runs']['total']}; {html.escape(summary['created'])}</p>",
        "<h2>Latency (ms; cpu_s in s, rss in MB)</h2><table><tr><th>figure</th><th>n</th><th>p50</th><th>p90</th>"
        f"<th>p95</th><th>max</th></tr>{rows}</table>",
        f"<h2>Counts</h2><table>{counts}</table>",
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
                   f"<td>{p['failed_runs']}</td></tr>" for p in points)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>humansense latency sweep</title></head><body>"
            f"<h1>Sweep of {html.escape(key)}</h1><table border='1'><tr><th>value</th><th>v2v p50 ms</th>"
            f"<th>v2v p90 ms</th><th>cut-ins</th><th>unanswered</th><th>failed runs</th></tr>{rows}</table>"
            f"{embed_png(png)}</body></html>")
