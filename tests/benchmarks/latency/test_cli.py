"""`humansense bench` argument handling: complete help and one-line errors before any long run."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from benchmarks.latency.cli import register


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="humansense")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(["bench", "--help"])
    text = capsys.readouterr().out
    for option in ("--suite", "--split", "--config", "--set", "--repeat", "--out", "--compare", "--sweep",
                   "--components", "--pace", "--cache", "--scenarios"):
        assert option in text


def test_defaults_and_repeated_sets(tmp_path: Path) -> None:
    args = _parse(["bench", "--out", str(tmp_path), "--set", "a.b=1", "--set", "c=2", "--repeat", "3"])
    assert args.suite == "quick" and args.split == "all" and args.pace == "realtime" and args.repeat == 3
    assert args.sets == ["a.b=1", "c=2"] and callable(args.func)


def test_a_scenario_syntax_error_is_one_line_with_file_and_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "bad.txt").write_text("suite quick\nuser: hi\nwait 3\npause 1\n")
    args = _parse(["bench", "--out", str(tmp_path / "out"), "--scenarios", str(scenarios)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert f"humansense: error: {scenarios / 'bad.txt'}:3: unknown directive 'wait'" in err.replace("\n", "")


def test_a_set_with_no_scenario_fails_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "a.txt").write_text("suite quick\nset tune\nuser: hi\npause 1\n")
    args = _parse(["bench", "--out", str(tmp_path / "out"), "--scenarios", str(scenarios), "--split", "report"])
    assert args.func(args) == 2
    assert "no scenario in suite quick belongs to set report" in capsys.readouterr().err.replace("\n", "")
    assert not (tmp_path / "out" / "summary.json").exists()


def test_compare_with_a_missing_run_fails_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["bench", "--out", str(tmp_path / "out"), "--compare", str(tmp_path / "nothing")])
    assert args.func(args) == 2
    assert "no summary.json to compare with" in capsys.readouterr().err.replace("\n", "")
    assert not (tmp_path / "out").exists()


def test_a_malformed_sweep_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["bench", "--out", str(tmp_path / "out"), "--sweep", "policy.x"])
    assert args.func(args) == 2
    assert "expected key=v1,v2" in capsys.readouterr().err.replace("\n", "")
