"""The command line: complete help, one-line errors without devices, clean shutdown that flushes every output."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from agent.cli import build_parser, main

COMMANDS = ["replay", "run", "demo", "doctor", "serve", "eval", "score", "report", "bench"]


def test_every_command_is_there_with_complete_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    top = capsys.readouterr().out
    for name in COMMANDS:
        assert name in top
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        assert "usage: humansense " + name in text
    assert {a.dest for a in build_parser()._subparsers._group_actions[0].choices["replay"]._actions} >= {
        "media", "pace", "config", "set", "record", "out", "quiet"}


def test_live_run_without_audio_devices_is_one_clear_line(capsys):
    code = main(["run", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "PyAudio" in err or "no audio input device" in err


@pytest.mark.slow
def test_sigterm_stops_a_realtime_replay_cleanly_and_flushes_everything(tmp_path):
    from agent.synth import Line, render_conversation

    media = tmp_path / "long.wav"
    render_conversation([Line("Hello there, this is a long replay.", 30.0)], media)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "replay", str(media), "--quiet", "--out", str(out),
                             "--record", str(out / "rec.wav")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 60
    while not (out / "trace.jsonl.partial").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(4.0)                       # let the first turn happen
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr.decode()
    assert not list(out.glob("*.partial"))
    assert json.loads((out / "turns.json").read_text())[0]["user_text"]
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    assert trace[-1]["type"] == "session_ended" and trace[-1]["t"] < 20
    assert (out / "rec.wav").stat().st_size > 44 and (out / "metrics.json").exists()
