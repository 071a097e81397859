"""The `serve` command in a real process: the port checked before any model loads, one line per connection and
per answer, a clean stop on a signal with close 1001."""
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from agent.cli.main import build_parser
from agent.cli.serve import ServeLines
from agent.server.notes import Answered, Connected, Disconnected, TurnedAway
from tests.agent.server.clients import claiming, closed_with, expect, tiny_jpeg

ROOT = Path(__file__).resolve().parents[3]

SERVE = [sys.executable, "-m", "agent.cli", "serve", "--set", "output.terminal=false"]
CLOCK = r"\d\d:\d\d:\d\d"


def test_serve_help_says_what_it_does_and_gives_an_example(capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["serve", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Serve the companion page, where you talk to the agent in a browser" in text
    assert "example: humansense serve --port 8765, then open http://127.0.0.1:8765/" in text


def test_each_note_is_one_line_with_who_and_the_capacity():
    assert ServeLines.line(Connected("127.0.0.1:5123", "ab12", 1, 4)) == "connected 127.0.0.1:5123 (1 of 4)"
    assert ServeLines.line(Answered("127.0.0.1:5123", "ab12", 487.6, "sad", False)) == \
        "answered 127.0.0.1:5123 in 488 ms, sad"
    assert ServeLines.line(Answered("127.0.0.1:5123", "ab12", None, None, True)) == \
        "answered 127.0.0.1:5123 unprompted, neutral, interrupted"
    assert ServeLines.line(Disconnected("127.0.0.1:5123", "ab12", 0, 4, 125.2, 1, "client left")) == \
        "ended 127.0.0.1:5123 after 2 min 5 s, 1 answer, client left (0 of 4)"
    assert ServeLines.line(TurnedAway("127.0.0.1:5124", 4, 4)) == "turned away 127.0.0.1:5124: busy (4 of 4)"


@pytest.mark.slow
def test_a_port_in_use_is_one_line_and_exit_2_before_any_model_loads():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([*SERVE, "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "loading models" not in done.stdout  # nobody waits ten seconds to learn the port is taken
    assert done.stderr.splitlines() == [f"humansense: error: port {port} is in use on 127.0.0.1 "
                                        "(another `humansense serve`?); choose another with --port"]


@pytest.mark.slow
@pytest.mark.parametrize("sig, codes", [(signal.SIGTERM, (143,)), (signal.SIGINT, (130,))], ids=["TERM", "INT"])
def test_serve_stops_on_a_signal_after_hostile_messages_and_closes_with_1001(sig, codes):
    proc = subprocess.Popen([*SERVE, "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        port = None
        for line in proc.stdout:
            if found := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
                port = int(found.group(1))
                break
        assert port, "serve printed no URL"

        async def scenario():
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 60)
                for message in ["[" * 10_000, '{"type":"ping","id":' + "1" * 5_000 + "}",
                                b"\x02" + claiming(tiny_jpeg(), 30000, 30000)]:
                    await ws.send(message)
                    assert (await expect(ws, "error", timeout=3))["code"] in ("bad_json", "bad_jpeg")
                await ws.send(json.dumps({"type": "ping", "id": 1}))
                await expect(ws, "pong")
                proc.send_signal(sig)
                assert (await closed_with(ws)).code == 1001
        asyncio.run(scenario())
        assert proc.wait(timeout=15) in codes
        lines = proc.stdout.read().splitlines()
        assert any(re.fullmatch(rf"{CLOCK} connected 127\.0\.0\.1:\d+ \(1 of \d+\)", line) for line in lines), lines
        assert any(re.fullmatch(rf"{CLOCK} ended 127\.0\.0\.1:\d+ after \d+ s, 0 answers, closed 1001 "
                                rf"\(server shutting down\) \(0 of \d+\)", line) for line in lines), lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
