"""LlmBrain over a real chat-completions SSE server: streamed deltas, hidden thinking, and the fallback brain."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import numpy as np
import pytest

from dialogue.brains import make_brain
from dialogue.cue_brain import CueBrain
from dialogue.encoding import encode_jpeg
from dialogue.llm_brain import LlmBrain
from dialogue.openai_backend import OpenAIGenerator
from dialogue.settings import BrainSettings
from dialogue.transformers_backend import TransformersGenerator
from dialogue.types import BrainDelta, BrainView, Keyframe
from perception.types import Transcript
from tests.dialogue.chat_server import ChatServer, Reply, free_port

SETTINGS = BrainSettings(backend="openai", model="tiny-omni", timeout_s=2.0, retries=1, retry_backoff_s=0.01,
                         api_key_env="HS_TEST_UNSET_KEY")
VIEW = BrainView(
    t=3.0,
    transcript=Transcript("I'm so tired of work lately.", 0.5, 2.6),
    utterance_audio=np.zeros(16000, np.int16),
    keyframes=(Keyframe(t=2.0, jpeg=encode_jpeg(np.full((48, 64, 3), 90, np.uint8)), width=64, height=48),),
    cue_summary="face: tired; voice: low energy",
)
TAGGED = ("<think>They sound", " tired; be gentle.</think>", "<decision>respond</decision>",
          "<emotion>warm</emotion>", "<response>That sounds", " exhausting.", " Do you want", " to talk?</response>")


def _run(brain: LlmBrain, view: BrainView = VIEW) -> list[tuple[float, BrainDelta]]:
    async def go() -> list[tuple[float, BrainDelta]]:
        try:
            return [(time.perf_counter(), d) async for d in brain.respond(view)]
        finally:
            await brain.aclose()
    return asyncio.run(go())


def _brain(base_url: str, settings: BrainSettings = SETTINGS, fallback: bool = True) -> LlmBrain:
    return LlmBrain(OpenAIGenerator(settings, base_url=base_url), settings, CueBrain(settings) if fallback else None)


def _cue_answer() -> list[BrainDelta]:
    async def go() -> list[BrainDelta]:
        return [d async for d in CueBrain(SETTINGS).respond(VIEW)]
    return asyncio.run(go())


def test_streams_decision_emotion_and_text_and_keeps_thinking_out_of_speech() -> None:
    with ChatServer(Reply(chunks=TAGGED, interval_s=0.0)) as srv:
        brain = _brain(srv.base_url)
        deltas = [d for _, d in _run(brain)]
    assert deltas[0] == BrainDelta(decision="respond")
    assert deltas[1] == BrainDelta(emotion="warm")
    text = "".join(d.text for d in deltas if d.text)
    assert text == "That sounds exhausting. Do you want to talk?"
    assert not any(d.text and ("tired" in d.text or "gentle" in d.text) for d in deltas)
    assert not any(d.note for d in deltas)
    assert "They sound tired; be gentle." in brain.thinking
    sent = srv.seen[0].body["messages"]
    assert sent[0]["role"] == "system" and "<think>" in sent[0]["content"]
    assert "I'm so tired of work lately." in json.dumps(sent[-1])


def test_first_text_arrives_before_the_server_finishes_the_reply() -> None:
    with ChatServer(Reply(chunks=TAGGED, interval_s=0.1)) as srv:
        timed = _run(_brain(srv.base_url))
    first_text = next(t for t, d in timed if d.text)
    done = srv.seen[0].done_time
    assert done is not None
    assert first_text < done - 0.2  # ~0.4 s of reply still to come when speech could start


def test_timeout_falls_back_to_the_cue_brain() -> None:
    settings = replace(SETTINGS, timeout_s=0.3)
    with ChatServer(Reply(hang_s=30.0)) as srv:
        t0 = time.perf_counter()
        deltas = [d for _, d in _run(_brain(srv.base_url, settings))]
        elapsed = time.perf_counter() - t0
    assert deltas[0].note is not None and deltas[0].note.startswith("fallback: ")
    assert "no data for 0.3 s" in deltas[0].note
    assert deltas[1:] == _cue_answer()
    assert any(d.decision for d in deltas[1:])
    assert elapsed < 3.0


def test_nothing_listening_falls_back() -> None:
    deltas = [d for _, d in _run(_brain(f"http://127.0.0.1:{free_port()}/v1"))]
    assert deltas[0].note is not None and "fallback: " in deltas[0].note and "ConnectError" in deltas[0].note
    assert deltas[1:] == _cue_answer()


def test_an_empty_reply_falls_back() -> None:
    with ChatServer(Reply(chunks=(), interval_s=0.0)) as srv:
        deltas = [d for _, d in _run(_brain(srv.base_url))]
    assert deltas[0].note == "fallback: the model answered with no decision and no response (empty reply)"
    assert deltas[1:] == _cue_answer()


def test_a_reply_that_only_thinks_falls_back() -> None:
    with ChatServer(Reply(chunks=("<think>hmm, what to say", "</think>"), interval_s=0.0)) as srv:
        brain = _brain(srv.base_url)
        deltas = [d for _, d in _run(brain)]
    assert deltas[0].note == "fallback: the model answered with no decision and no response"
    assert deltas[1:] == _cue_answer()
    assert brain.thinking == "hmm, what to say"


def test_a_rejected_request_falls_back_naming_the_status() -> None:
    with ChatServer(Reply(status=400, error="audio input is not supported by this model")) as srv:
        deltas = [d for _, d in _run(_brain(srv.base_url))]
    assert deltas[0].note is not None
    assert "HTTP 400: audio input is not supported by this model" in deltas[0].note
    assert len(srv.seen) == 1


def test_a_failure_after_speech_started_ends_the_answer_without_fallback() -> None:
    lines = tuple("data: " + json.dumps({"choices": [{"delta": {"content": c}}]}) for c in TAGGED[2:6])
    with ChatServer(Reply(lines=lines + ("data: {broken",), interval_s=0.0)) as srv:
        deltas = [d for _, d in _run(_brain(srv.base_url))]
    texts = [d.text for d in deltas if d.text]
    assert "".join(texts).startswith("That sounds")
    assert [d.decision for d in deltas if d.decision] == ["respond"]  # the cue brain did not answer too
    assert deltas[-1].note is not None and deltas[-1].note.startswith("error: ") and "malformed SSE" in deltas[-1].note


def test_without_a_fallback_a_failure_is_only_a_note() -> None:
    deltas = [d for _, d in _run(_brain(f"http://127.0.0.1:{free_port()}/v1", fallback=False))]
    assert len(deltas) == 1 and deltas[0].note is not None and deltas[0].note.startswith("fallback: ")


def test_make_brain_builds_each_backend() -> None:
    assert isinstance(make_brain(BrainSettings(backend="cue")), CueBrain)
    remote = make_brain(SETTINGS)
    assert isinstance(remote, LlmBrain)
    assert isinstance(remote.generator, OpenAIGenerator) and isinstance(remote.fallback, CueBrain)
    assert remote.name == "llm:openai"
    assert make_brain(replace(SETTINGS, fallback="none")).fallback is None  # type: ignore[attr-defined]
    local = make_brain(BrainSettings(backend="transformers", model="/nonexistent/omni"))
    assert isinstance(local, LlmBrain) and isinstance(local.generator, TransformersGenerator)
    assert local.generator.model is None  # nothing loads until warm-up or the first answer
    asyncio.run(remote.aclose())


def test_make_brain_rejects_an_unknown_backend() -> None:
    with pytest.raises(ValueError, match="brain.backend must be one of"):
        make_brain(BrainSettings(backend="llama"))


def test_a_local_model_that_cannot_load_falls_back_naming_the_folder() -> None:
    pytest.importorskip("transformers")
    brain = make_brain(BrainSettings(backend="transformers", model="/nonexistent/omni"))
    deltas = [d for _, d in _run(brain)]  # type: ignore[arg-type]
    assert deltas[0].note == "fallback: FileNotFoundError: /nonexistent/omni: no such model folder"
    assert deltas[1:] == _cue_answer()
