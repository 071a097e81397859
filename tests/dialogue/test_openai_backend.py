"""OpenAIGenerator against a real HTTP server speaking chat-completions SSE."""
from __future__ import annotations

import asyncio
import base64
import io
import time
import wave
from dataclasses import replace

import cv2
import numpy as np
import pytest

from dialogue.encoding import encode_jpeg
from dialogue.errors import BrainError
from dialogue.openai_backend import OpenAIGenerator
from dialogue.settings import BrainSettings
from dialogue.types import MultimodalPrompt
from tests.dialogue.chat_server import ChatServer, Reply, free_port

SETTINGS = BrainSettings(backend="openai", model="tiny-omni", timeout_s=2.0, retries=2, retry_backoff_s=0.01,
                         temperature=0.3, api_key_env="HS_TEST_BRAIN_KEY")
TAGGED = ("<think>They sound", " tired.</think>", "<decision>respond</decision>", "<emotion>warm</emotion>",
          "<response>That sounds", " exhausting.", " Want to talk?</response>")


def _collect(gen: OpenAIGenerator, prompt: MultimodalPrompt) -> list[tuple[float, str]]:
    async def go() -> list[tuple[float, str]]:
        try:
            return [(time.perf_counter(), piece) async for piece in gen.stream(prompt)]
        finally:
            await gen.aclose()
    return asyncio.run(go())


def _frame(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return encode_jpeg(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


def test_request_carries_model_auth_images_audio_and_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_TEST_BRAIN_KEY", "sk-test-123")
    audio = (np.sin(np.arange(8000) / 7.0) * 9000).astype(np.int16)
    prompt = MultimodalPrompt(user="How do I seem?", system="You are kind.", images=(_frame(1), _frame(2)),
                              audio=audio, history=(("user", "hi"), ("agent", "hello")), max_tokens=77)
    with ChatServer(Reply(chunks=TAGGED, interval_s=0.0)) as srv:
        pieces = _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), prompt)
    assert "".join(p for _, p in pieces) == "".join(TAGGED)
    (req,) = srv.seen
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test-123"
    body = req.body
    assert (body["model"], body["stream"], body["max_tokens"], body["temperature"]) == ("tiny-omni", True, 77, 0.3)
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    parts = body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "input_audio", "text"]
    url = parts[0]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (48, 64, 3)
    assert parts[2]["input_audio"]["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(parts[2]["input_audio"]["data"]))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        got = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    np.testing.assert_array_equal(got, audio)
    assert parts[3] == {"type": "text", "text": "How do I seem?"}


def test_no_key_no_auth_header_and_media_switches_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HS_TEST_BRAIN_KEY", raising=False)
    settings = replace(SETTINGS, send_images=False, send_audio=False)
    prompt = MultimodalPrompt(user="hi", images=(_frame(3),), audio=np.zeros(1600, np.int16))
    with ChatServer(Reply(chunks=("ok",), interval_s=0.0)) as srv:
        _collect(OpenAIGenerator(settings, base_url=srv.base_url), prompt)
    assert "authorization" not in srv.seen[0].headers
    assert srv.seen[0].body["messages"][-1]["content"] == "hi"  # no media: plain string content


def test_pieces_arrive_while_the_server_is_still_streaming() -> None:
    with ChatServer(Reply(chunks=TAGGED, interval_s=0.08)) as srv:
        pieces = _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))
    assert [p for _, p in pieces] == list(TAGGED)
    done = srv.seen[0].done_time
    assert done is not None
    assert pieces[0][0] < done - 0.3  # the first piece came ~0.5 s before the server finished


def test_a_500_is_retried_then_the_reply_streams() -> None:
    with ChatServer(Reply(status=500, error="overloaded"), Reply(chunks=("fine",), interval_s=0.0)) as srv:
        pieces = _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))
    assert [p for _, p in pieces] == ["fine"]
    assert len(srv.seen) == 2


def test_persistent_5xx_gives_up_after_the_retries() -> None:
    with ChatServer(Reply(status=503, error="warming up")) as srv:
        with pytest.raises(BrainError, match="HTTP 503: warming up.*3 attempts"):
            _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))
    assert len(srv.seen) == 3


def test_a_400_names_status_and_server_text_and_is_not_retried() -> None:
    with ChatServer(Reply(status=400, error="At most 0 image(s) may be provided in one request.")) as srv:
        with pytest.raises(BrainError, match=r"HTTP 400: At most 0 image\(s\)") as info:
            _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))
    assert "\n" not in str(info.value)
    assert len(srv.seen) == 1


def test_a_server_that_never_answers_times_out() -> None:
    settings = replace(SETTINGS, timeout_s=0.3)
    with ChatServer(Reply(hang_s=30.0)) as srv:
        t0 = time.perf_counter()
        with pytest.raises(BrainError, match="no data for 0.3 s"):
            _collect(OpenAIGenerator(settings, base_url=srv.base_url), MultimodalPrompt(user="hi"))
        assert time.perf_counter() - t0 < 3.0


def test_malformed_sse_is_an_error() -> None:
    lines = ('data: {"choices":[{"delta":{"content":"ok"}}]}', "data: {not json")
    with ChatServer(Reply(lines=lines, interval_s=0.0)) as srv:
        with pytest.raises(BrainError, match="malformed SSE"):
            _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))


@pytest.mark.parametrize("line, why", [
    ('data: {"choices":["x"]}', "choices[0] is a str, not an object"),
    ('data: {"choices":[{"delta":"x"}]}', "delta is a str, not an object"),
    ('data: {"choices":[{"delta":{"content":5}}]}', "delta.content is a int, not a string"),
    ('data: {"choices":{"0":{"delta":{"content":"x"}}}}', "choices is a dict, not a list"),
    ('data: {"choices":[{"delta":["x"]}]}', "delta is a list, not an object"),
])
def test_well_formed_json_of_the_wrong_shape_is_an_error_naming_the_url_and_the_line(line: str, why: str) -> None:
    lines = ('data: {"choices":[{"delta":{"role":"assistant"}}]}', line)
    with ChatServer(Reply(lines=lines, interval_s=0.0)) as srv:
        with pytest.raises(BrainError) as info:
            _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))
    message = str(info.value)
    assert message.startswith(f"{srv.base_url}/chat/completions: unexpected chunk shape ({why}): ")
    assert line[6:] in message
    assert len(srv.seen) == 1  # a wrong shape is not retried: it would come back the same


def test_chunks_without_content_are_no_text_not_errors() -> None:
    lines = ('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}',
             'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}',
             'data: {"choices":[{"index":0,"finish_reason":"stop"}]}',
             'data: {"choices":[],"usage":{"total_tokens":3}}', "data: [DONE]")
    with ChatServer(Reply(lines=lines, interval_s=0.0)) as srv:
        pieces = _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))
    assert [p for _, p in pieces] == ["hi"]


@pytest.mark.parametrize("body, content_type", [
    ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    ('{"choices":[{"message":{"content":"not streamed"}}]}', "application/json"),
])
def test_a_reply_with_no_sse_data_names_what_came_instead(body: str, content_type: str) -> None:
    with ChatServer(Reply(body=body, content_type=content_type)) as srv:
        with pytest.raises(BrainError, match=f"no SSE data in the reply \\({content_type}\\)") as info:
            _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), MultimodalPrompt(user="hi"))
    assert srv.base_url in str(info.value)
    assert body[:20] in str(info.value)


def test_an_empty_200_names_the_likely_cause_and_the_fix_for_content_parts() -> None:
    prompt = MultimodalPrompt(user="hi", images=(_frame(4),))
    with ChatServer(Reply(body="")) as srv:
        with pytest.raises(BrainError, match="HTTP 200 with an empty body") as info:
            _collect(OpenAIGenerator(SETTINGS, base_url=srv.base_url), prompt)
    assert "chat template" in str(info.value) and "brain.send_images = false" in str(info.value)


def test_nothing_listening_is_retried_then_an_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BrainError, match="ConnectError.*3 attempts"):
        _collect(OpenAIGenerator(SETTINGS, base_url=url), MultimodalPrompt(user="hi"))


def test_consumer_stopping_early_closes_the_stream() -> None:
    async def go(url: str) -> list[str]:
        gen = OpenAIGenerator(SETTINGS, base_url=url)
        got: list[str] = []
        stream = gen.stream(MultimodalPrompt(user="hi"))
        async for piece in stream:
            got.append(piece)
            if len(got) == 2:
                break
        await stream.aclose()
        await gen.aclose()
        return got

    with ChatServer(Reply(chunks=tuple(f"w{i} " for i in range(50)), interval_s=0.02)) as srv:
        got = asyncio.run(go(srv.base_url))
        time.sleep(0.2)
    assert got == ["w0 ", "w1 "]
    assert srv.seen[0].done_time is None  # the server saw the client go away before the end


def test_build_request_with_eight_vga_keyframes_is_fast() -> None:
    rng = np.random.default_rng(0)
    frames = [cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (9, 9), 3) for _ in range(8)]
    gen = OpenAIGenerator(SETTINGS, base_url="http://127.0.0.1:9/v1")
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        jpegs = tuple(encode_jpeg(f, 80) for f in frames)
        body = gen.build_request(MultimodalPrompt(user="hi", images=jpegs, audio=np.zeros(16000 * 5, np.int16)))
        best = min(best, time.perf_counter() - t0)
    asyncio.run(gen.aclose())
    assert len(body["messages"][-1]["content"]) == 10
    assert best < 0.1  # ~10-20 ms measured on one idle core; loose for a shared machine


def test_model_name_is_required() -> None:
    with pytest.raises(ValueError, match="brain.model"):
        OpenAIGenerator(replace(SETTINGS, model=""))


def test_a_url_httpx_cannot_use_is_an_error_not_a_crash() -> None:
    with pytest.raises(BrainError, match="UnsupportedProtocol"):
        _collect(OpenAIGenerator(SETTINGS, base_url="ftp://127.0.0.1/v1"), MultimodalPrompt(user="hi"))


def test_a_prefetch_sends_the_words_heard_so_far_for_one_token_and_a_request_supersedes_it() -> None:
    prompt = MultimodalPrompt(user="I lost my job today.\n[words: negative]", system="Be kind.", max_tokens=50)

    async def go(settings: BrainSettings, url: str) -> None:
        gen = OpenAIGenerator(settings, base_url=url)
        gen.prefetch(prompt, "I lost my")
        await asyncio.sleep(0.3)
        [piece async for piece in gen.stream(prompt)]
        await gen.aclose()

    with ChatServer(Reply(chunks=("ok",), interval_s=0.0)) as srv:
        asyncio.run(go(SETTINGS, srv.base_url))
    early, real = srv.seen
    assert early.body["max_tokens"] == 1 and early.body["messages"][-1]["content"] == "I lost my"
    assert "grammar" not in early.body and real.body["max_tokens"] == 50
    with ChatServer(Reply(chunks=("ok",), interval_s=0.0)) as srv:
        asyncio.run(go(replace(SETTINGS, engine="other", structured="json"), srv.base_url))
    assert len(srv.seen) == 1  # a hosted server is never sent a request that is not an answer
