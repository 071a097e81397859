"""The trace on disk while the session runs: lines reach ``trace.jsonl.partial`` within about a second, even when
no further event comes, so a killed process loses at most the last second; a clean close renames the file."""
import asyncio
import json
import time

from agent.runtime.events import Event, EventKind
from agent.media.sinks.trace import FLUSH_EVERY_S, TraceWriter


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_line_reaches_the_file_within_a_second_with_no_event_after_it(tmp_path):
    partial = tmp_path / "trace.jsonl.partial"

    async def session() -> list[int]:
        trace = TraceWriter(tmp_path / "trace.jsonl")
        seen = []
        for t in range(3):
            trace(Event(float(t), EventKind.SPEECH_STARTED))
        seen.append(len(partial.read_text().splitlines()))      # buffered: writes stay cheap
        await asyncio.sleep(FLUSH_EVERY_S + 0.5)                 # the session goes quiet
        seen.append(len(partial.read_text().splitlines()))
        trace.abort()
        return seen

    assert asyncio.run(session()) == [0, 3]
    assert [e["type"] for e in lines(partial)] == ["speech_started"] * 3


def test_without_a_loop_the_first_write_past_the_deadline_flushes(tmp_path):
    trace = TraceWriter(tmp_path / "trace.jsonl")
    trace(Event(0.0, EventKind.SESSION_STARTED))
    assert (tmp_path / "trace.jsonl.partial").read_text() == ""
    time.sleep(FLUSH_EVERY_S)
    trace(Event(1.0, EventKind.SPEECH_STARTED))
    assert len(lines(tmp_path / "trace.jsonl.partial")) == 2
    assert trace.close() == tmp_path / "trace.jsonl"
    assert not (tmp_path / "trace.jsonl.partial").exists() and len(lines(tmp_path / "trace.jsonl")) == 2
