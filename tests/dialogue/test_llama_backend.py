"""llama.cpp in-process with the real bundled GGUF (SmolLM2-135M-Instruct): format, cache reuse, stops, bad files."""
from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from dialogue.answer_format import AGENT_EMOTIONS, DECISIONS, AnswerFormat
from dialogue.llama_backend import BUNDLED, LlamaGenerator, resolve_gguf
from dialogue.settings import BrainSettings
from dialogue.types import MultimodalPrompt

SETTINGS = BrainSettings(backend="llama", model=BUNDLED, context_size=1024, max_new_tokens=40, temperature=0.7)
SYSTEM = "You are a kind listener. Answer in the tag format."


@pytest.fixture(scope="module")
def gen() -> Iterator[LlamaGenerator]:
    generator = LlamaGenerator(SETTINGS)
    yield generator
    asyncio.run(generator.aclose())


def answer(gen: LlamaGenerator, prompt: MultimodalPrompt, stop_after: int | None = None) -> str:
    async def go() -> str:
        out = []
        async for piece in gen.stream(prompt):
            out.append(piece)
            if stop_after is not None and len(out) >= stop_after:
                break
        return "".join(out)
    return asyncio.run(go())


def prompt(user: str, history: tuple[tuple[str, str], ...] = (), fmt: AnswerFormat | None = AnswerFormat(),
           max_tokens: int = 40) -> MultimodalPrompt:
    return MultimodalPrompt(user=user, system=SYSTEM, history=history, max_tokens=max_tokens, answer_format=fmt)


@pytest.mark.parametrize("reasoning", [0, 24])
def test_every_answer_is_in_the_tag_format_with_allowed_values(gen: LlamaGenerator, reasoning: int) -> None:
    fmt = AnswerFormat("tags", reasoning)
    for said in ("My cat died this morning.", "I got the job!", "Hmm, so, well"):
        text = answer(gen, prompt(f'They said: "{said}"', fmt=fmt, max_tokens=60))
        assert fmt.pattern().fullmatch(text), text


def test_a_json_answer_is_valid_json_with_allowed_values(gen: LlamaGenerator) -> None:
    obj = json.loads(answer(gen, prompt('They said: "I lost my keys again."', fmt=AnswerFormat("json"))))
    assert set(obj) == {"decision", "emotion", "response"}
    assert obj["decision"] in DECISIONS and obj["emotion"] in AGENT_EMOTIONS


def test_free_text_without_a_format(gen: LlamaGenerator) -> None:
    assert answer(gen, prompt("Say hello.", fmt=None, max_tokens=8)).strip()


def test_a_conversation_prefills_only_what_is_new(gen: LlamaGenerator) -> None:
    first = prompt('They said: "I had a long day at work."')
    reply = answer(gen, first)
    full = len(gen.tokenize(gen.render(first)))
    assert gen.last_stats is not None and gen.last_stats.prompt_tokens == full
    second = prompt('They said: "My manager shouted at me."', history=(("user", first.user), ("assistant", reply)))
    new = gen.prefill_tokens(second)
    answer(gen, second)
    assert gen.last_stats.prefilled_tokens == new
    assert new < 40 < len(gen.tokenize(gen.render(second)))  # the system prompt and the first turn were kept


def test_the_same_prompt_twice_costs_one_token(gen: LlamaGenerator) -> None:
    p = prompt('They said: "Again."')
    answer(gen, p)
    answer(gen, p)
    assert gen.last_stats is not None and gen.last_stats.prefilled_tokens == 1


def test_a_consumer_that_stops_listening_stops_the_decoding(gen: LlamaGenerator) -> None:
    assert answer(gen, prompt('They said: "Tell me a long story."', max_tokens=200), stop_after=3)
    answer(gen, prompt('They said: "Hi."'))  # the next request runs after the stopped one, which ended
    assert gen.last_stats is not None and not gen.last_stats.cancelled


def test_a_prompt_longer_than_the_context_is_a_brain_error(gen: LlamaGenerator) -> None:
    from dialogue.errors import BrainError

    with pytest.raises(BrainError, match="do not fit the context"):
        answer(gen, prompt("word " * 2000))


def test_count_tokens_uses_the_models_tokenizer(gen: LlamaGenerator) -> None:
    assert gen.count_tokens("hello") == 1
    assert gen.count_tokens("I'm so sorry.") == 5


def test_the_bundled_model_resolves_to_the_file_in_its_wheel() -> None:
    path = resolve_gguf(BUNDLED)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 90_000_000


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.gguf", "no such file"),
    (lambda d: d, "is a folder"),
    (lambda d: _write(d / "notes.gguf", b"hello, not a model" * 100), "not a GGUF file"),
    (lambda d: _write(d / "tiny.gguf", b"GGUF" + b"\0" * 10), "truncated"),
])
def test_a_bad_model_path_is_one_line_naming_the_file(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(ValueError, match=message) as info:
        LlamaGenerator(replace(SETTINGS, model=str(path)))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_cut_off_gguf_fails_to_load_with_one_line(tmp_path: Path) -> None:
    cut = _write(tmp_path / "cut.gguf", resolve_gguf(BUNDLED).read_bytes()[:2_000_000])
    with pytest.raises(ValueError, match="llama.cpp cannot load it") as info:
        LlamaGenerator(replace(SETTINGS, model=str(cut)))
    assert str(cut) in str(info.value) and "\n" not in str(info.value)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
