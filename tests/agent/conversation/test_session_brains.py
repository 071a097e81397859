"""The session with an LLM brain behind a real chat-completions SSE server: streamed, spoken early, never hangs."""
import base64
import json

import pytest

from agent.demo.synth import Line, render_conversation
from tests.agent.replaying import replay_fast
from tests.dialogue.chat_server import ChatServer, Reply, free_port

pytestmark = pytest.mark.slow

REPLY = ("<think>The person sounds worn out; ", "their voice is low.</think>",
         "<decision>respond</decision><emotion>concerned</emotion>",
         "<response>That sounds exhausting. ", "I'm glad you told me. ", "What was the hardest part ", "of it?</response>")


@pytest.fixture(scope="module")
def utterance(tmp_path_factory):
    path = tmp_path_factory.mktemp("u") / "tired.wav"
    render_conversation([Line("I am so tired after this long week at work.", 7.0)], path)
    return path


def test_the_llm_answer_is_spoken_as_it_streams_and_its_thinking_never(utterance, tmp_path):
    with ChatServer(Reply(chunks=REPLY, interval_s=0.25)) as server:
        turns, trace = replay_fast(utterance, tmp_path, "brain.backend=openai", f"brain.base_url={server.base_url}",
                              "brain.model=tiny", "brain.send_audio=true", "policy.first_sentence_deadline_ms=0")
        seen = [s for s in server.seen if s.body["max_tokens"] > 1][-1]  # one-token requests warm its cache
    assert len(turns) == 1
    turn = turns[0]
    assert turn["brain"] == "llm:openai" and turn["fallback"] is None
    assert turn["agent_emotion"] == "concerned" and turn["decision"] == "respond"
    assert turn["agent_text"].startswith("That sounds exhausting.")
    spoken = " ".join(e["text"] for e in trace if e["type"] == "agent_text")
    assert "worn out" not in spoken and "voice is low" not in spoken and "<" not in spoken
    # the request: the user's utterance as base64 WAV and the transcript in the text
    parts = seen.body["messages"][-1]["content"]
    audio = [p for p in parts if p["type"] == "input_audio"]
    assert audio and base64.b64decode(audio[0]["input_audio"]["data"])[:4] == b"RIFF"
    assert "tired" in json.dumps(parts).lower()
    # the first sentence was synthesized before the server had finished streaming the reply
    streamed_s = seen.done_time - seen.chunk_times[0]
    lat = turn["latency_ms"]
    assert lat["brain_first_sentence"] + lat["tts_first_audio"] < streamed_s * 1000


def test_a_dead_endpoint_falls_back_to_the_cue_brain_and_says_so(utterance, tmp_path):
    turns, trace = replay_fast(utterance, tmp_path, "brain.backend=openai", f"brain.base_url=http://127.0.0.1:{free_port()}/v1",
                          "brain.model=tiny", "brain.retries=0", "brain.timeout_s=1")
    assert len(turns) == 1 and turns[0]["agent_text"]
    assert turns[0]["fallback"].startswith("fallback:")
    assert any(e["type"] == "brain_note" for e in trace)
