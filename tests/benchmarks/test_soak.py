"""The server soak: RSS slope by least squares, flat counts, the targets, the server command, the clients' phases."""
from __future__ import annotations

import asyncio
import random
import sys
import time

import numpy as np
import pytest

from benchmarks import soak
from benchmarks.soak import (FLAT_SLACK, ClientLog, Phases, Sample, client, flat, server_command, slope_per_hour,
                             summarize, verdicts)


def test_the_slope_is_least_squares_per_hour() -> None:
    ts = [0.0, 600.0, 1200.0, 1800.0]
    assert slope_per_hour(ts, [500.0, 501.0, 502.0, 503.0]) == pytest.approx(6.0)  # 1 MB per 10 min
    assert slope_per_hour(ts, [500.0, 504.0, 500.0, 504.0]) == pytest.approx(4.8)  # noise fits, not endpoints


def test_a_slope_needs_two_distinct_times() -> None:
    assert slope_per_hour([], []) is None
    assert slope_per_hour([5.0, 5.0], [1.0, 2.0]) is None


def test_counts_are_flat_unless_the_last_third_climbs_past_the_slack() -> None:
    assert flat([13, 14, 13, 13, 15, 13, 14, 13, 14])  # reconnects come and go
    assert flat([13] * 6 + [13 + FLAT_SLACK] * 3)
    assert not flat([13] * 6 + [14 + FLAT_SLACK] * 3)  # one leaked thread per cycle adds up
    assert flat([40, 41])  # too few samples to call a trend


def test_summary_counts_from_the_warm_mark_and_grows_idle_to_idle() -> None:
    samples = [Sample(0, 500, 8, 10), Sample(50, 690, 13, 20), Sample(100, 700, 13, 18), Sample(150, 712, 13, 20),
               Sample(200, 705, 13, 20), Sample(250, 706, 13, 18)]
    figures = summarize(samples, warm=samples[2], end=samples[5])
    assert figures["rss_mb_after_warmup"] == 700 and figures["rss_mb_end"] == 706 and figures["rss_growth_mb"] == 6
    assert figures["threads_min_max"] == [13, 13] and figures["fds_min_max"] == [18, 20]
    assert figures["samples_after_warmup"] == 4 and figures["threads_flat"] and figures["fds_flat"]


def test_targets_pass_within_30_mb_and_flat_counts() -> None:
    ok = {"rss_growth_mb": 30.0, "threads_flat": True, "fds_flat": True}
    assert verdicts(ok) == {"rss_growth_le_30_mb": True, "threads_flat": True, "fds_flat": True}
    assert verdicts(ok | {"rss_growth_mb": 30.1})["rss_growth_le_30_mb"] is False
    assert verdicts(ok | {"fds_flat": False})["fds_flat"] is False


def test_the_server_runs_as_humansense_serve_or_under_the_heap_tracer() -> None:
    cmd = server_command(8123, ["server.max_sessions=4"], trace=False)
    assert cmd[:3] == [sys.executable, "-m", "agent.cli"]
    assert cmd[3:] == ["serve", "--host", "127.0.0.1", "--port", "8123", "--set", "server.max_sessions=4"]
    assert server_command(8123, [], trace=True)[1:4] == ["-m", "benchmarks.memgrowth", "serve"]


def test_clients_warm_up_wait_at_the_idle_mark_then_converse_until_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_conversation(port: int, pcm: object, truth: object) -> dict[str, object]:
        await asyncio.sleep(0.005)
        return {"latency_ms": [450.0, None], "gaps": [], "transcripts": 1}

    monkeypatch.setattr(soak, "conversation", fake_conversation)
    monkeypatch.setattr(soak, "STAGGER_S", 0.0)
    monkeypatch.setattr(soak, "PAUSE_S", (0.0, 0.0))

    async def run() -> tuple[list[int], list[ClientLog]]:
        phases, soak_end, logs = Phases(2), [float("inf")], [ClientLog(), ClientLog()]
        pcm = np.zeros(0, np.int16)
        tasks = [asyncio.create_task(client(0, pcm, [], log, random.Random(i), 2, phases, soak_end))
                 for i, log in enumerate(logs)]
        await phases.all_warm.wait()
        await asyncio.sleep(0.05)  # nobody converses while the server is measured idle
        at_mark = [log.conversations for log in logs]
        soak_end[0] = time.monotonic() + 0.1
        phases.resume.set()
        await asyncio.gather(*tasks)
        return at_mark, logs

    at_mark, logs = asyncio.run(run())
    assert at_mark == [2, 2]
    for log in logs:
        assert log.conversations > 2 and log.turns == 2 * log.conversations and log.answered == log.conversations
        assert log.errors == []


def test_a_failed_conversation_is_logged_as_an_error_with_its_turns_unanswered() -> None:
    log = ClientLog()
    log.add({"latency_ms": [None, None], "gaps": [], "transcripts": 0, "error": "ConnectionError: expected hello"})
    assert (log.conversations, log.turns, log.answered, log.errors) == (1, 2, 0, ["ConnectionError: expected hello"])
