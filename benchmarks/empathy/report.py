"""The empathy evaluation's results: the summary against its targets, and the per-case table as JSON, Markdown and HTML."""
from __future__ import annotations

import html
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from agent.files import atomic_write_bytes, atomic_write_json
from agent.runtime.metrics import percentiles
from benchmarks.empathy.cases import Case
from benchmarks.empathy.runner import MATCHING, TurnResult

TARGET_MATCH = 0.9
"""Share of scored turns whose agent emotion matches the expected valence."""
TARGET_CHEERFUL = 0
"""Cheerful or congratulating replies to negative content."""


def summarize(split: str, runs: Sequence[tuple[Case, tuple[TurnResult, ...]]],
              brain: dict[str, str] | None = None) -> dict[str, Any]:
    """The figures the targets are about, which brain gave them, and every turn as a row."""
    turns = [r for _, results in runs for r in results]
    scored = [r for r in turns if r.scored]
    negative = [r for r in scored if r.expect == "negative"]
    match = sum(r.valence_ok for r in scored) / len(scored) if scored else 0.0
    cheerful = sum(r.cheerful for r in negative)
    cases_passed = sum(all(r.passed for r in results if r.scored) for _, results in runs)
    topics = {case.topic for case, _ in runs}
    speech = [r.first_speech_ms for r in turns if r.first_speech_ms is not None]
    return {
        "brain": brain or {"backend": "cue", "name": "cue", "model": "rules (no model)"},
        "split": split, "cases": len(runs), "cases_passed": cases_passed, "topics": sorted(topics),
        "turns": len(turns), "scored_turns": len(scored), "negative_turns": len(negative),
        "cheerful_to_negative": cheerful, "valence_match": round(match, 4),
        "forbidden_phrases": sum(len(r.forbidden) for r in scored),
        "misheard_said_back": sum(len(r.parroted) for r in scored),
        "asks_missed": sum(r.missed_ask for r in scored),
        "brain_notes": sum(len(r.notes) for r in turns),
        "acknowledged": sum(r.acknowledgement is not None for r in turns),
        "first_speech_ms": percentiles(speech, (50, 90)),
        "targets": {"cheerful_to_negative": TARGET_CHEERFUL, "valence_match": TARGET_MATCH},
        "targets_met": cheerful <= TARGET_CHEERFUL and match >= TARGET_MATCH,
        "matching": {k: sorted(v) for k, v in MATCHING.items()},
        "rows": [{**asdict(r), "scored": r.scored, "passed": r.passed if r.scored else None, "why": r.why,
                  "split": case.split, "topic": case.topic}
                 for case, results in runs for r in results],
    }


def brain_line(summary: dict[str, Any]) -> str:
    b = summary["brain"]
    return f"{b['name']} ({b['model']})"


def one_line(summary: dict[str, Any]) -> str:
    verdict = "targets met" if summary["targets_met"] else "targets MISSED"
    return (f"empathy of {brain_line(summary)} ({summary['split']}: {summary['cases']} cases, "
            f"{summary['scored_turns']} scored turns): "
            f"{summary['cheerful_to_negative']} cheerful replies to negative content, "
            f"valence match {summary['valence_match']:.1%}, {summary['forbidden_phrases']} forbidden phrases, "
            f"{summary['misheard_said_back']} misheard words said back, {summary['asks_missed']} asks missed, "
            f"{summary['cases_passed']}/{summary['cases']} cases pass, {summary['brain_notes']} brain notes; {verdict}")


def _verdict(row: dict[str, Any]) -> str:
    return "–" if row["passed"] is None else "pass" if row["passed"] else "FAIL"


def _seems(row: dict[str, Any]) -> str:
    return row["user_label"] + (" (masking)" if row["masking"] else "")


def markdown(summary: dict[str, Any]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# Empathy evaluation ({summary['split']})", "", one_line(summary), "",
             "Agent emotions that match each expected valence: "
             + "; ".join(f"{k}: {', '.join(v)}" for k, v in summary["matching"].items()) + ".", "",
             "| case | # | face | user said | user seems (why) | expected | agent emotion | agent said | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in summary["rows"]:
        result = _verdict(row) + (f": {row['why']}" if row["why"] else "")
        lines.append(f"| {cell(row['case'])} | {row['index'] + 1} | {row['face']} | {cell(row['user'])} | "
                     f"{cell(_seems(row))} ({cell(row['reason'])}) | {row['expect'] or '–'} | {row['agent_emotion']} | "
                     f"{cell(row['reply'])} | {cell(result)} |")
    return "\n".join(lines) + "\n"


def html_page(summary: dict[str, Any]) -> str:
    e = html.escape
    rows = []
    for row in summary["rows"]:
        verdict = _verdict(row)
        rows.append(
            f"<tr class=\"{verdict.lower().strip('–') or 'unscored'}\"><td>{e(row['case'])}</td><td>{row['index'] + 1}</td>"
            f"<td>{e(row['face'])}</td><td>{e(row['user'])}</td>"
            f"<td>{e(_seems(row))}<div class=\"why\">{e(row['reason'])}</div></td>"
            f"<td>{e(row['expect'] or '–')}</td><td>{e(row['agent_emotion'])}</td><td>{e(row['reply'])}</td>"
            f"<td>{e(verdict)}<div class=\"why\">{e(row['why'])}</div></td></tr>")
    matching = "; ".join(f"<b>{e(k)}</b>: {e(', '.join(v))}" for k, v in summary["matching"].items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>empathy evaluation</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1300px;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}}
th{{background:#f4f4f8}}.why{{color:#666;font-size:12px}}tr.fail{{background:#fdecea}}tr.unscored{{color:#777}}</style>
</head><body><h1>Empathy evaluation ({e(summary['split'])})</h1>
<p>{e(one_line(summary))}</p><p>Agent emotions that match each expected valence: {matching}.</p>
<table><tr><th>case</th><th>#</th><th>face</th><th>user said</th><th>user seems (why)</th><th>expected</th>
<th>agent emotion</th><th>agent said</th><th>result</th></tr>{''.join(rows)}</table></body></html>
"""


def write_outputs(out: str | Path, summary: dict[str, Any]) -> list[Path]:
    """summary.json, report.md and report.html in ``out``, each written atomically."""
    out = Path(out)
    paths = [out / "summary.json", out / "report.md", out / "report.html"]
    atomic_write_json(paths[0], summary)
    atomic_write_bytes(paths[1], markdown(summary).encode("utf-8"))
    atomic_write_bytes(paths[2], html_page(summary).encode("utf-8"))
    return paths
