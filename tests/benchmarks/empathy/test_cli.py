"""`humansense empathy`: one line on the terminal, the report files written, exit 2 on a bad cases file."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.empathy.cli import register

ROOT = Path(__file__).resolve().parents[3]


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["empathy", *argv])
    return args.func(args)


def test_the_report_half_prints_one_line_and_writes_the_table(tmp_path, capsys):
    assert run("--out", str(tmp_path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("empathy of cue (rules (no model)) (report: ")
    assert "0 cheerful replies to negative content" in lines[0] and "0 brain notes" in lines[0]
    assert lines[1] == f"wrote {tmp_path / 'report.html'}"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["split"] == "report" and len(summary["rows"]) >= summary["scored_turns"] >= 60
    assert {"reply", "agent_emotion", "expect", "passed", "why", "reason"} <= set(summary["rows"][0])
    page = (tmp_path / "report.html").read_text()
    assert page.count("<tr") == len(summary["rows"]) + 1 and "likely masking" in page
    assert "| case | # | face |" in (tmp_path / "report.md").read_text()
    assert not list(tmp_path.glob("*.tmp"))


def test_settings_can_be_overridden(tmp_path, capsys):
    assert run("--split", "tune", "--out", str(tmp_path), "--set", "fusion.turn_decay=0.0") == 0
    assert capsys.readouterr().out.startswith("empathy of cue (rules (no model)) (tune: ")


def test_a_bad_cases_file_or_setting_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "cases.json"
    bad.write_text('{"cases": [{"id": "x", "split": "later", "turns": [{"user": "Hi", "expect": "neutral"}]}]}')
    assert run("--cases", str(bad), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"humansense: error: {bad}: case 0 (x).split must be one of") and "\n" not in err
    assert run("--out", str(tmp_path / "o"), "--set", "fusion.turn_decy=1") == 2
    assert "fusion.turn_decy" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_configured_brain_is_scored_named_and_its_cases_saved_as_they_finish(tmp_path, capsys):
    cases = {"cases": [
        {"id": "sad-news", "split": "report", "face": "smile",
         "turns": [{"user": "My grandmother passed away last night.", "expect": "negative"}]},
        {"id": "good-news", "split": "report", "face": "smile",
         "turns": [{"user": "I finally got the job I wanted!", "expect": "positive"}]}]}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    out = tmp_path / "out"
    config = str(ROOT / "configs" / "llama-local.toml")
    assert run("--cases", str(path), "--out", str(out), "--config", config) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("empathy of llm:llama (SmolLM2-135M-Instruct.Q4_1.gguf (as q4_0)) (report: 2 cases")
    saved = json.loads((out / "cases.json").read_text())
    assert saved["brain"]["backend"] == "llama" and set(saved["cases"]) == {"sad-news", "good-news"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["brain"] == saved["brain"] and summary["rows"][0]["first_speech_ms"] is not None
    before = (out / "cases.json").stat().st_mtime_ns
    assert run("--cases", str(path), "--out", str(out), "--config", config) == 0  # resumed: nothing left to answer
    assert (out / "cases.json").stat().st_mtime_ns == before
