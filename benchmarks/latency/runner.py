"""Run one replay of a rendered scenario as a subprocess and collect its outputs, CPU time and peak RSS."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

POLL_S = 0.1


@dataclass(frozen=True)
class RunResult:
    """One replay. ``ok`` is False for a crash, a timeout, a config that fails to start or unreadable outputs."""
    scenario: str
    repetition: int
    out_dir: Path
    ok: bool
    error: str
    returncode: int | None
    wall_s: float
    cpu_s: float
    rss_peak_mb: float

    @property
    def recording(self) -> Path:
        return self.out_dir / "recording.wav"

    @property
    def trace(self) -> Path:
        return self.out_dir / "trace.jsonl"


def replay_command(media: Path, out_dir: Path, config: str | None, sets: tuple[str, ...], pace: str) -> list[str]:
    cmd = [sys.executable, "-m", "agent.cli", "replay", str(media), "--pace", pace,
           "--record", str(out_dir / "recording.wav"), "--out", str(out_dir), "--quiet"]
    if config:
        cmd += ["--config", config]
    for item in sets:
        cmd += ["--set", item]
    return cmd


def _last_line(path: Path) -> str:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def run_command(cmd: list[str], scenario: str, repetition: int, out_dir: Path, timeout_s: float,
                required: tuple[str, ...] = ("recording.wav", "turns.json")) -> RunResult:
    """Run ``cmd`` (stdout/stderr to files in ``out_dir``); per-process rusage comes from wait4 on that child."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(out_dir / "stdout.txt", "wb") as out, open(out_dir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout_s and not timed_out:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(POLL_S)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    cpu = usage.ru_utime + usage.ru_stime
    rss_mb = usage.ru_maxrss / 1024  # Linux reports KiB
    error = ""
    if timed_out:
        error = f"timed out after {timeout_s:.0f} s"
    elif code != 0:
        error = f"exit code {code}: {_last_line(out_dir / 'stderr.txt') or 'no message'}"
    else:
        missing = [name for name in required if not (out_dir / name).exists()]
        if missing:
            error = f"finished but wrote no {', '.join(missing)}"
    if error:
        logger.info("%s #%d failed: %s", scenario, repetition, error)
    return RunResult(scenario=scenario, repetition=repetition, out_dir=out_dir, ok=not error, error=error,
                     returncode=code, wall_s=wall, cpu_s=cpu, rss_peak_mb=rss_mb)


def read_trace(path: Path) -> list[dict[str, Any]] | None:
    """A run's trace.jsonl as a list of events, or None when the run wrote none."""
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_json(path: Path, default: Any) -> Any:
    """A run output file, or ``default`` when it is absent."""
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))
