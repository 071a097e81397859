"""`humansense bench --hog N`: documented, and refused below 0 before anything runs."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from benchmarks.latency.cli import register


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="humansense")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_hog_defaults_to_none_and_is_in_the_help(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert _parse(["bench", "--out", str(tmp_path)]).hog == 0
    assert _parse(["bench", "--out", str(tmp_path), "--hog", "2"]).hog == 2
    with pytest.raises(SystemExit):
        _parse(["bench", "--help"])
    assert "--hog N" in capsys.readouterr().out


def test_a_negative_hog_fails_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["bench", "--out", str(tmp_path / "out"), "--hog", "-1"])
    assert args.func(args) == 2
    assert "--hog must be 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
