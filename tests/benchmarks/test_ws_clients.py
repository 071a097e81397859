"""The simulated client's measurements, and what one client over the capacity is told."""
from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.server import ServerConnection, serve

from benchmarks.ws_clients import Admission, answered, gaps, pairs, try_admission


def test_each_turn_pairs_with_the_first_audio_before_the_next_turn_ends() -> None:
    ends = [1.0, 5.0, 9.0]
    outs = [1.5, 1.6, 9.2]
    assert pairs(ends, outs) == [pytest.approx(500.0), None, pytest.approx(200.0)]
    assert answered(pairs(ends, outs)) == [pytest.approx(500.0), pytest.approx(200.0)]


def test_a_sentence_later_than_back_to_back_playback_plus_the_jitter_buffer_is_a_gap() -> None:
    # one answer of three back-to-back sentences (server t 0, 1, 2 s); the third arrives 0.1 s too late
    audio = [(10.0, 0.0, 1.0), (10.5, 1.0, 1.0), (12.16, 2.0, 1.0)]
    assert [round(g) for g in gaps(audio)] == [100]
    assert gaps([(10.0, 0.0, 1.0), (20.0, 5.0, 1.0)]) == []  # a new answer starts a new run


def test_a_client_over_the_capacity_reads_busy_then_close_1013() -> None:
    async def busy_server(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "busy", "message": "full", "retry_after_s": 30}))
        await ws.close(1013, "server busy")

    async def run() -> Admission:
        async with serve(busy_server, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]  # type: ignore[index]
            return await try_admission(port)

    admission = asyncio.run(run())
    assert admission == Admission("busy", 1013) and admission.turned_away


def test_a_client_admitted_is_not_turned_away() -> None:
    assert not Admission("hello", None).turned_away
    assert not Admission("busy", 1011).turned_away
