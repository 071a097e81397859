"""One replay per subprocess: per-run CPU time and peak RSS, crashes and hangs recorded as failed runs."""
from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.latency.runner import replay_command, run_command

WRITES_OUTPUTS = """
import sys, pathlib, numpy as np
out = pathlib.Path(sys.argv[1])
block = np.ones(40_000_000, dtype=np.uint8)  # ~40 MB resident
total = 0
for _ in range(30): total += int(block.sum())
(out / "recording.wav").write_bytes(b"")
(out / "turns.json").write_text("[]")
"""


def test_a_finished_run_reports_its_own_cpu_and_peak_rss(tmp_path: Path) -> None:
    result = run_command([sys.executable, "-c", WRITES_OUTPUTS, str(tmp_path)], "demo", 1, tmp_path, 60)
    assert result.ok and result.error == "" and result.returncode == 0
    assert result.rss_peak_mb > 40
    assert 0 < result.cpu_s <= result.wall_s + 1


def test_a_crash_is_a_failed_run_with_the_last_stderr_line(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; sys.stderr.write('loading\\nconfig: policy.x: unknown setting\\n'); "
                                 "sys.exit(3)"]
    result = run_command(cmd, "demo", 2, tmp_path, 60)
    assert not result.ok and result.returncode == 3
    assert result.error == "exit code 3: config: policy.x: unknown setting"


def test_a_run_that_writes_nothing_or_hangs_fails(tmp_path: Path) -> None:
    quiet = run_command([sys.executable, "-c", "pass"], "demo", 1, tmp_path / "a", 60)
    assert not quiet.ok and "wrote no recording.wav, turns.json" in quiet.error
    hung = run_command([sys.executable, "-c", "import time; time.sleep(30)"], "demo", 1, tmp_path / "b", 0.5)
    assert not hung.ok and hung.error.startswith("timed out") and hung.wall_s < 10


def test_replay_command_line(tmp_path: Path) -> None:
    cmd = replay_command(Path("m.wav"), tmp_path, "c.toml", ("a.b=1", "c=2"), "fast")
    assert cmd[:4] == [sys.executable, "-m", "agent.cli", "replay"]
    assert cmd[4:] == ["m.wav", "--pace", "fast", "--record", str(tmp_path / "recording.wav"), "--out",
                       str(tmp_path), "--quiet", "--config", "c.toml", "--set", "a.b=1", "--set", "c=2"]
