"""`humansense doctor` checks the brain end to end: the engine answers, the model loads, and one short request in the
exact shape the agent sends (string or parts, images, audio, the answer format) is answered in that format. Each
problem is one line that names the fix. Real engines: llama-cpp-python's server and the bundled GGUF in-process;
the scripted server only for what a real one will not do on demand (hang, refuse a grammar)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.config import load_config
from agent.cli.doctor import Status, check_brain
from dialogue.answer_format import AGENT_EMOTIONS, DECISIONS, AnswerFormat
from dialogue.llama_backend import BUNDLED_FILE
from tests.dialogue.chat_server import ChatServer, Reply, free_port
from tests.llama_server import MODEL_ALIAS, LlamaServer

Line = tuple[Status, str]
SLOW_MACHINE = "brain.timeout_s=30"  # a cold engine on a busy 2-core machine can take seconds before its first token


def brain_lines(*sets: str) -> list[Line]:
    """The doctor's brain lines for the default config with ``sets`` (dotted key=value overrides)."""
    lines = list(check_brain(load_config(None, list(sets))))
    assert all("\n" not in text for _, text in lines), lines
    return lines


def served(server: LlamaServer | ChatServer, model: str = MODEL_ALIAS, *sets: str) -> tuple[str, ...]:
    """Settings for a text-only openai brain behind ``server`` (images and audio off unless ``sets`` say so)."""
    return ("brain.backend=openai", f"brain.base_url={server.base_url}", f"brain.model={model}",
            "brain.send_images=false", "brain.send_audio=false", SLOW_MACHINE, *sets)


def assert_parsed(text: str) -> None:
    """The line ends with what the brain's parser read: a decision and an emotion from the answer format."""
    read = re.search(r"\(decision (\w+), emotion (\w+)\)$", text)
    assert read is not None and read[1] in DECISIONS and read[2] in AGENT_EMOTIONS, text


def request_line(lines: list[Line]) -> Line:
    """The line about the one request (the endpoint line comes first and must be ok)."""
    assert len(lines) == 2 and lines[0][0] == "ok", lines
    return lines[1]


# ---- a real llama.cpp server ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("structured", "field"), [("grammar", "grammar"), ("json", "response_format")],
                         ids=["grammar", "json"])
def test_a_text_request_with_the_answer_format_is_answered_and_parses(llama_server: LlamaServer, structured: str,
                                                                       field: str) -> None:
    status, text = request_line(brain_lines(*served(llama_server), f"brain.structured={structured}"))
    assert status == "ok", text
    assert f"in the agent's shape (string content, {field}) answered in" in text
    assert_parsed(text)


def test_image_parts_a_text_models_template_rejects_fail_with_send_images_off_as_the_fix(
        llama_server: LlamaServer) -> None:
    status, text = request_line(brain_lines(*served(llama_server, MODEL_ALIAS, "brain.send_images=true")))
    assert status == "fail"
    assert "(image_url + text parts, grammar)" in text  # the request went exactly as the agent sends it
    assert "this server's chat template rejects image parts: set brain.send_images = false" in text
    assert "send_audio" not in text  # only what was sent is named


def test_audio_parts_the_server_refuses_fail_with_both_media_off_as_the_fix(llama_server: LlamaServer) -> None:
    # llama-cpp-python's server refuses an input_audio part in its request schema (HTTP 500), before any template.
    status, text = request_line(brain_lines(*served(llama_server, MODEL_ALIAS, "brain.send_images=true",
                                                    "brain.send_audio=true")))
    assert status == "fail"
    assert "rejects image and audio parts: set brain.send_images = false and brain.send_audio = false" in text


def test_a_json_schema_the_server_refuses_names_the_engine_setting_as_the_fix(llama_server: LlamaServer) -> None:
    # llama-cpp-python's server takes a schema only as json_object: engine "other" sends the json_schema type.
    status, text = request_line(brain_lines(*served(llama_server), "brain.structured=json", "brain.engine=other"))
    assert status == "fail"
    assert "this server does not take a JSON schema (response_format): set brain.engine to what it is" in text


def test_a_model_the_endpoint_does_not_list_is_named(llama_server: LlamaServer) -> None:
    lines = brain_lines(*served(llama_server, "qwen2.5-7b"))
    assert lines[0] == ("warn", f"brain endpoint {llama_server.base_url}: serves ['{MODEL_ALIAS}'], not brain.model "
                                "'qwen2.5-7b': set it to one of them")


def test_the_request_carries_the_media_the_format_and_the_reasoning_budget_the_agent_would() -> None:
    answer = ("<think>They greet me.</think>", "<decision>respond</decision>", "<emotion>warm</emotion>")
    with ChatServer(Reply(chunks=answer)) as server:
        status, text = request_line(brain_lines(*served(server, "tiny", "brain.send_images=true",
                                                        "brain.send_audio=true", "brain.reasoning=hidden",
                                                        "brain.reasoning_tokens=64")))
        [seen] = server.seen
    assert status == "ok" and "(image_url + input_audio + text parts, grammar)" in text, text
    assert text.endswith("(decision respond, emotion warm)")
    body = seen.body
    assert [part["type"] for part in body["messages"][-1]["content"]] == ["image_url", "input_audio", "text"]
    assert body["messages"][-1]["content"][-1]["text"].startswith("Hello, can you hear me?\n[")
    assert body["grammar"] == AnswerFormat("tags", reasoning_tokens=64).for_trigger("end_of_turn").gbnf()
    assert body["max_tokens"] > 64  # the reasoning fits before the decision


# ---- no engine, or a misbehaving one -----------------------------------------------------------------------------

def test_a_dead_port_is_one_fail_line_saying_not_answering_and_to_start_the_engine() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    lines = brain_lines("brain.backend=openai", f"brain.base_url={url}", "brain.model=any")
    assert lines == [("fail", f"brain (openai): not answering at {url} (ConnectError): start the engine "
                              "(see the header of the config file)")]


def test_a_server_that_never_answers_fails_within_the_brains_timeout() -> None:
    with ChatServer(Reply(hang_s=30)) as server:
        status, text = request_line(brain_lines(*served(server, "tiny"), "brain.timeout_s=0.5"))
    assert status == "fail" and "nothing for 0.5 s (brain.timeout_s)" in text


def test_a_grammar_the_server_rejects_suggests_the_engine_or_json() -> None:
    with ChatServer(Reply(status=400, error="unknown field: grammar")) as server:
        status, text = request_line(brain_lines(*served(server, "tiny")))
    assert status == "fail"
    assert ('this server does not take a GBNF grammar: set brain.engine to what it is, or brain.structured = "json"'
            in text)


def test_an_answer_without_decision_and_emotion_warns_that_the_format_was_ignored() -> None:
    with ChatServer(Reply(chunks=("OK",))) as server:
        status, text = request_line(brain_lines(*served(server, "tiny")))
    assert status == "warn"
    assert "with no decision and no emotion in it ('OK'): the server ignored the grammar field" in text


def test_free_text_that_does_not_parse_suggests_a_grammar() -> None:
    with ChatServer(Reply(chunks=("Yes, ", "I can hear you."))) as server:
        status, text = request_line(brain_lines(*served(server, "tiny", "brain.structured=none")))
    assert status == "warn" and text.endswith('set brain.structured = "grammar" so they always parse')


# ---- llama.cpp in this process ------------------------------------------------------------------------------------

def test_the_bundled_gguf_loads_and_answers_in_process() -> None:
    [(status, text)] = brain_lines("brain.backend=llama", "brain.model=bundled", SLOW_MACHINE)
    assert status == "ok", text
    assert text.startswith(f"brain (llama): {BUNDLED_FILE} loaded in ")
    assert "a request in the agent's shape (text only, tag format) answered in" in text
    assert_parsed(text)


@pytest.mark.parametrize(("content", "why"), [(None, "no such file"),
                                              (b"PK\x03\x04 a zip file, not a model", "not a GGUF file"),
                                              (b"GGUF" + bytes(100), "truncated")],
                         ids=["missing", "not-gguf", "truncated"])
def test_a_gguf_that_cannot_load_is_one_fail_line_naming_the_file(tmp_path: Path, content: bytes | None,
                                                                  why: str) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    [(status, text)] = brain_lines("brain.backend=llama", f"brain.model={path}")
    assert status == "fail"
    assert text.startswith(f"brain (llama): brain.model {path}: {why}")


def test_the_cue_brain_needs_no_model() -> None:
    assert brain_lines("brain.backend=cue") == [("ok", "brain: cue (rule-based baseline, no model)")]
