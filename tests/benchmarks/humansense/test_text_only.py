"""Text-only models: no frames or audio in any prompt, the agent's own perception as their only view of the media,
every item still answered, and what each answer was given recorded beside it; against a real llama.cpp server and
llama.cpp in-process."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.humansense.__main__ import main
from tests.benchmarks.humansense.hs_data import MULTI, NUMERIC, OPTS4, SINGLE, ChatServer, item

TEXT_ONLY = ("--set", "brain.send_images=false", "--set", "brain.send_audio=false")
AGENT_TEXT_ONLY = "text only (agent perception: transcript, cues); no frames or audio sent"
QUICK = ("--max-tokens", "16", "--set", "brain.temperature=0")


@pytest.fixture
def held_out(minidata, tmp_path: Path) -> Path:
    """Five items the mini set does not hold, over its media: speech, a silent clip, and a phone call (audio only)."""
    items = [
        item("data/videos/talk.mp4", "Emo_Strategy", SINGLE, "B", OPTS4, question="What should the listener say next"),
        item("data/videos/silent.mp4", "Gesture_Recognition", SINGLE, "C", ["A. nod", "B. shrug", "C. wave"],
             question="Which gesture is made"),
        item("data/videos/talk.mp4", "Talkingperson_Recognition", MULTI, "A", OPTS4, question="Who speaks"),
        item("data/videos/silent.mp4", "Human_Counting", NUMERIC, "1", question="How many faces are visible"),
        item("data/audios/call.wav", "Fraud_Recognition", SINGLE, "B", ["A. fraud", "B. not fraud"], video=False,
             question="Is the caller honest"),
    ]
    data = tmp_path / "held_out.json"
    data.write_text(json.dumps(items))
    return data


def _eval(minidata, data: Path, out: Path, *extra: str) -> int:
    return main(["eval", "--data", str(data), "--data-root", str(minidata.root), "--out", str(out),
                 "--cache-dir", str(out.parent / "cache"), "--quiet", *extra])


def _questions(path: Path) -> list[dict[str, Any]]:
    return [element["questions"] for element in json.loads(path.read_text())]


def test_a_text_only_model_gets_our_perception_as_plain_text_and_no_media_parts(minidata, held_out, tmp_path,
                                                                                capsys) -> None:
    res = tmp_path / "res.json"
    with ChatServer() as server:
        assert _eval(minidata, held_out, res, "--backend", "openai", "--model", "text", "--name", "text",
                     "--endpoint", server.base_url, "--variant", "agent", *TEXT_ONLY, *QUICK) == 0
        contents = [body["messages"][-1]["content"] for body in server.bodies]
    assert len(contents) == 5 and all(isinstance(c, str) for c in contents)        # string content: no parts at all
    by_question = {c.split("Question: ")[1].split(",")[0].split("\n")[0]: c for c in contents}
    speech = by_question["What should the listener say next"]
    assert "Transcript (our ASR): " in speech and "tired" in speech.lower() and "Voice: " in speech
    assert "Transcript (our ASR): " in by_question["Is the caller honest"]   # our ASR hears the call; the model cannot
    gesture = by_question["Which gesture is made"]
    assert "Speech: none heard." in gesture and "Faces: " in gesture
    assert [q["text_input"] for q in _questions(res)] == [AGENT_TEXT_ONLY] * 5
    out = capsys.readouterr()
    assert f"  input: {AGENT_TEXT_ONLY} (each answer's in questions[text_input])" in out.out
    assert "warning" not in out.err


def test_a_media_model_is_recorded_with_what_each_answer_was_given(minidata, held_out, tmp_path: Path) -> None:
    res = tmp_path / "res.json"
    with ChatServer() as server:
        assert _eval(minidata, held_out, res, "--backend", "openai", "--model", "omni", "--name", "omni",
                     "--endpoint", server.base_url) == 0
    given = [q["omni_input"] for q in _questions(res)]
    assert given == ["frames: 4, audio: yes", "frames: 4, audio: no", "frames: 4, audio: yes",
                     "frames: 4, audio: no", "frames: 0, audio: yes"]


def test_plain_prompts_to_a_text_only_model_warn_decode_nothing_and_fail_broken_media_as_ever(minidata, tmp_path,
                                                                                              capsys) -> None:
    res = tmp_path / "res.json"
    with ChatServer() as server:
        assert _eval(minidata, minidata.vqa, res, "--backend", "openai", "--model", "text", "--name", "text",
                     "--endpoint", server.base_url, *TEXT_ONLY) == 0
        assert all(isinstance(body["messages"][-1]["content"], str) for body in server.bodies)
    out = capsys.readouterr()
    assert out.err.count("humansense: warning: the model reads text only and sees no media") == 1
    assert "6 answered, 1 skipped, 2 failed" in out.out                  # as with media: yes/no; gone + corrupt file
    assert "  input: text only (the question alone); no frames or audio sent" in out.out
    saved = _questions(res)
    assert saved[0]["text_input"] == "text only (the question alone); no frames or audio sent"
    assert "not found" in saved[11]["text_error"] and "corrupt.mp4" in saved[12]["text_error"]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.npz"))   # nothing decoded


def test_the_llama_backend_needs_a_model(minidata, held_out, tmp_path: Path, capsys) -> None:
    assert _eval(minidata, held_out, tmp_path / "res.json", "--backend", "llama", "--name", "m") == 2
    assert 'backend llama needs brain.model: a GGUF file, or "bundled"' in capsys.readouterr().err


# ---- real engines: llama.cpp's OpenAI-compatible server, and llama.cpp in-process -----------------------------------
# llama-cpp-python's server (started as users start it) stops a request when the next one arrives: one at a time.
ONE_AT_A_TIME = ("--concurrency", "1")


def test_a_text_model_behind_a_real_llama_cpp_server_answers_every_item(minidata, held_out, llama_server, tmp_path,
                                                                        capsys) -> None:
    res = tmp_path / "res.json"
    assert _eval(minidata, held_out, res, "--backend", "openai", "--endpoint", llama_server.base_url,
                 "--model", "smollm2", "--name", "smol", "--variant", "agent", *ONE_AT_A_TIME, *TEXT_ONLY, *QUICK) == 0
    assert "5 answered, 0 skipped, 0 failed" in capsys.readouterr().out
    saved = _questions(res)
    assert all(q["smol"].strip() and q["smol_input"] == AGENT_TEXT_ONLY and "smol_error" not in q for q in saved)


def test_the_llama_backend_answers_every_item_in_process(minidata, held_out, tmp_path: Path, capsys) -> None:
    res = tmp_path / "res.json"
    assert _eval(minidata, held_out, res, "--backend", "llama", "--model", "bundled", "--name", "smol",
                 "--variant", "agent", "--concurrency", "3", *QUICK) == 0
    out = capsys.readouterr()
    assert "5 answered, 0 skipped, 0 failed" in out.out
    assert f"  input: {AGENT_TEXT_ONLY} (each answer's in questions[smol_input])" in out.out
    saved = _questions(res)
    assert all(q["smol"].strip() and q["smol_input"] == AGENT_TEXT_ONLY for q in saved)


def test_frames_sent_to_a_real_text_model_fail_each_item_with_the_fix(minidata, held_out, llama_server, tmp_path,
                                                                      capsys) -> None:
    res = tmp_path / "res.json"
    assert _eval(minidata, held_out, res, "--backend", "openai", "--endpoint", llama_server.base_url,
                 "--model", "smollm2", "--name", "smol", "--limit", "4", "--set", "brain.send_audio=false",
                 *ONE_AT_A_TIME, *QUICK) == 0                               # the four video items; no crash
    assert "0 answered, 0 skipped, 4 failed" in capsys.readouterr().out
    saved = _questions(res)[:4]
    assert all("smol" not in q and "set brain.send_images = false and brain.send_audio = false" in q["smol_error"]
               for q in saved)
