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
    results = {"vad": {"ms_per_chunk": {"p50": 0.1}}, "asr": {"fixed_cost_ms": 300.0},
               "tts": "unavailable: ModuleNotFoundError: No module named 'speech.tts'"}
    assert headline_ms(results) == {"vad ms_per_chunk p50": 0.1, "asr fixed_cost_ms": 300.0}
