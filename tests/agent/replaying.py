"""Test helper: replay a media file at fast pace through the real CLI and read back what it wrote."""
import json

from agent.cli.main import main


def replay_fast(media, out, *sets, record=None):
    argv = ["replay", str(media), "--pace", "fast", "--quiet", "--out", str(out)]
    if record is not None:
        argv += ["--record", str(record)]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 0
    turns = json.loads((out / "turns.json").read_text())
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    return turns, trace
