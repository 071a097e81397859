"""Component microbenchmarks: the in-process SSE server speaks OpenAI streaming; VAD timing on real speech."""
from __future__ import annotations

import asyncio
import json
import time

import httpx
import numpy as np

from benchmarks.latency.components import (FIRST_TOKEN_DELAY_S, SSE_TOKENS, _sse_handler, bench_vad,
                                           headline_ms)


async def _stream_once() -> tuple[float, list[str]]:
    server = await asyncio.start_server(_sse_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pieces: list[str] = []
    first = 0.0
    async with httpx.AsyncClient() as client:
        start = time.perf_counter()
        async with client.stream("POST", f"http://127.0.0.1:{port}/v1/chat/completions",
                                 json={"model": "bench", "stream": True, "messages": []}) as resp:
            assert resp.headers["content-type"] == "text/event-stream"
            async for line in resp.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    if not pieces:
                        first = time.perf_counter() - start
                    pieces.append(json.loads(line[6:])["choices"][0]["delta"]["content"])
    server.close()
    await server.wait_closed()
    return first, pieces


def test_sse_server_streams_tagged_text_after_its_first_token_delay() -> None:
    first, pieces = asyncio.run(_stream_once())
    assert pieces == list(SSE_TOKENS)
    assert first >= FIRST_TOKEN_DELAY_S


def test_vad_timing_per_chunk() -> None:
    rng = np.random.default_rng(0)
    pcm = (rng.normal(0, 2000, 16000)).astype(np.int16)
    result = bench_vad(pcm)
    assert result["ms_per_chunk"]["n"] == 16000 // 512 and 0 < result["ms_per_chunk"]["p50"] < 32


def test_headline_skips_unavailable_components() -> None:
    results = {"vad": {"ms_per_chunk": {"p50": 0.1}}, "asr": {"ms_2s": 90.0}, "asr_faster_whisper": {"ms_2s": 400.0},
               "end_of_turn": {"ms_per_call": {"p50": 60.0}},
               "tts": "unavailable: ModuleNotFoundError: No module named 'speech.tts'"}
    assert headline_ms(results) == {"vad ms_per_chunk p50": 0.1, "asr ms_2s": 90.0, "asr_faster_whisper ms_2s": 400.0,
                                    "end_of_turn ms_per_call p50": 60.0}


def test_utterances_end_in_the_quietest_moment_near_their_length() -> None:
    from benchmarks.latency.components import _utterance

    speech = np.full(5 * 16000, 3000, np.int16)
    speech[int(2.1 * 16000):int(2.2 * 16000)] = 0  # a pause just after 2 s
    assert len(_utterance(speech, 2.0)) == int(2.1 * 16000)  # up to where the pause begins
