"""TransformersGenerator end to end on CPU with a tiny random Qwen2.5-Omni thinker built by the test."""
from __future__ import annotations

import asyncio
import time
from typing import Any
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from dialogue.encoding import encode_jpeg  # noqa: E402
from dialogue.errors import BrainError  # noqa: E402
from dialogue.parser import TagParser  # noqa: E402
from dialogue.settings import BrainSettings  # noqa: E402
from dialogue.transformers_backend import TransformersGenerator, load_processor  # noqa: E402
from dialogue.types import MultimodalPrompt  # noqa: E402
from tests.dialogue.tiny_omni import build_tiny_omni  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_omni(tmp_path_factory.mktemp("tiny_omni"))


@pytest.fixture(scope="module")
def generator(tiny: Path) -> TransformersGenerator:
    gen = TransformersGenerator(BrainSettings(backend="transformers", model=str(tiny), temperature=0.0))
    gen.load()
    return gen


def _prompt(max_tokens: int = 40) -> MultimodalPrompt:
    rng = np.random.default_rng(0)
    frames = tuple(encode_jpeg(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)) for _ in range(2))
    audio = (np.sin(np.arange(16000) / 5.0) * 8000).astype(np.int16)
    return MultimodalPrompt(user="How do I seem today?", system="You are kind.", images=frames, audio=audio,
                            history=(("user", "hi"), ("agent", "hello")), max_tokens=max_tokens)


def test_loads_on_cpu_in_float32(generator: TransformersGenerator) -> None:
    assert generator.device == "cpu"
    assert str(generator.model.dtype) == "torch.float32"


def test_inputs_carry_the_images_and_the_audio(generator: TransformersGenerator) -> None:
    inputs = generator.build_inputs(_prompt())
    tok = generator.processor.tokenizer
    ids = inputs["input_ids"][0].tolist()
    assert inputs["image_grid_thw"].shape[0] == 2
    assert inputs["input_features"].shape[:2] == (1, 20)
    assert ids.count(tok.convert_tokens_to_ids("<|vision_bos|>")) == 2
    assert ids.count(tok.convert_tokens_to_ids("<|AUDIO|>")) == int(inputs["feature_attention_mask"].sum()) // 4
    assert "How do I seem today?" in tok.decode(ids)


def test_streams_text_from_audio_image_and_text(generator: TransformersGenerator) -> None:
    async def go() -> list[str]:
        return [piece async for piece in generator.stream(_prompt(40))]

    pieces = asyncio.run(go())
    stats = generator.last_stats
    assert stats is not None and not stats.cancelled
    assert 1 <= stats.new_tokens <= 40
    assert len(pieces) >= 2  # streamed in pieces, not one blob at the end
    assert "".join(pieces).strip()


def test_stopping_early_stops_generation_within_a_few_tokens(generator: TransformersGenerator) -> None:
    async def go() -> tuple[list[str], float]:
        got: list[str] = []
        stream = generator.stream(_prompt(2000))
        async for piece in stream:
            got.append(piece)
            if len(got) == 2:
                break
        t0 = time.perf_counter()
        await stream.aclose()
        return got, time.perf_counter() - t0

    got, close_s = asyncio.run(go())
    stats = generator.last_stats
    assert len(got) == 2
    assert stats is not None and stats.cancelled
    assert stats.new_tokens < 2000
    assert stats.tokens_after_cancel <= 3  # the stop flag is checked after every token
    assert close_s < 2.0


def test_cancel_from_outside_ends_the_stream(generator: TransformersGenerator) -> None:
    async def go() -> list[str]:
        got: list[str] = []
        async for piece in generator.stream(_prompt(2000)):
            got.append(piece)
            if len(got) == 1:
                generator.cancel()
        return got

    got = asyncio.run(go())
    stats = generator.last_stats
    assert stats is not None and stats.cancelled and stats.tokens_after_cancel <= 3
    assert got


def test_the_event_loop_keeps_running_while_it_generates(generator: TransformersGenerator) -> None:
    async def go() -> None:
        async for _ in generator.stream(_prompt(300)):
            pass

    _, ticks, worst = asyncio.run(_ticking(go(), 0.005))
    assert ticks >= 5
    assert worst < 0.25  # generation runs in a thread; the loop only waits on its queue


def test_random_output_through_the_tag_parser_falls_back_to_plain_response(generator: TransformersGenerator) -> None:
    async def go() -> list[str]:
        return [piece async for piece in generator.stream(_prompt(60))]

    parser = TagParser()
    deltas = [d for piece in asyncio.run(go()) for d in parser.feed(piece)] + parser.close()
    decisions = [d.decision for d in deltas if d.decision]
    assert len(decisions) == 1 and decisions[0] in ("respond", "wait")
    assert deltas[0].decision is not None  # the decision leads the stream
    assert parser.warnings  # untagged text is noted, not an error


def test_warm_up_generates_one_token_and_count_tokens_uses_the_tokenizer(generator: TransformersGenerator) -> None:
    asyncio.run(generator.warm_up())
    assert generator.last_stats is not None and generator.last_stats.new_tokens == 1
    n = generator.count_tokens("hello there, how are you feeling today?")
    assert n == len(generator.processor.tokenizer("hello there, how are you feeling today?")["input_ids"])
    assert 2 <= n < len("hello there, how are you feeling today?")


def test_a_folder_without_a_tokenizer_is_named_in_the_error(tmp_path: Path, tiny: Path) -> None:
    for name in ("config.json", "processor_config.json", "chat_template.jinja"):
        (tmp_path / name).write_bytes((tiny / name).read_bytes())
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}: no tokenizer"):
        load_processor(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no tokenizer"):
        TransformersGenerator(BrainSettings(backend="transformers", model=str(tmp_path))).load()


def test_a_folder_without_a_processor_config_is_named_in_the_error(tmp_path: Path, tiny: Path) -> None:
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((tiny / name).read_bytes())
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}: no image/audio processor config"):
        load_processor(str(tmp_path))


def test_sampling_with_a_temperature_also_streams(tiny: Path) -> None:
    gen = TransformersGenerator(BrainSettings(backend="transformers", model=str(tiny), temperature=0.9))

    async def go() -> str:
        return "".join([piece async for piece in gen.stream(replace(_prompt(20), images=(), audio=None))])

    assert asyncio.run(go())
    assert gen.last_stats is not None and gen.last_stats.new_tokens >= 1


def test_count_tokens_estimates_until_the_model_is_loaded_and_never_loads_it() -> None:
    gen = TransformersGenerator(BrainSettings(backend="transformers", model="/nonexistent/omni"))
    t0 = time.perf_counter()
    assert gen.count_tokens("how are you feeling today") == 7  # ~1.3 tokens a word
    assert time.perf_counter() - t0 < 0.05
    assert gen.model is None and gen.processor is None  # the memory calls this on the event loop: no load there


def test_a_failed_load_is_remembered_and_not_retried_every_stream() -> None:
    gen = TransformersGenerator(BrainSettings(backend="transformers", model="/nonexistent/omni"))
    loads = 0
    real_load = gen.load

    def counted() -> None:
        nonlocal loads
        loads += 1
        real_load()

    gen.load = counted  # type: ignore[method-assign]

    async def go() -> list[str]:
        errors = []
        for _ in range(3):
            with pytest.raises(BrainError) as info:
                async for _ in gen.stream(MultimodalPrompt(user="hi")):
                    pass
            errors.append(str(info.value))
        return errors

    errors = asyncio.run(go())
    assert loads == 1
    assert set(errors) == {"transformers /nonexistent/omni: load failed (FileNotFoundError: /nonexistent/omni: "
                           "no such model folder); not retried until restart"}


def test_the_event_loop_keeps_ticking_while_the_model_loads(tiny: Path) -> None:
    gen = TransformersGenerator(BrainSettings(backend="transformers", model=str(tiny), temperature=0.0))
    real_load = gen.load

    def slow_load() -> None:
        time.sleep(0.5)  # a big checkpoint reading from disk
        real_load()

    gen.load = slow_load  # type: ignore[method-assign]

    async def go() -> list[str]:
        # The first stream starts the load; one started meanwhile waits for the same load instead of a second one.
        first, second = await asyncio.gather(_pieces(gen, 3), _pieces(gen, 3))
        return first + second

    pieces, ticks, worst = asyncio.run(_ticking(go(), 0.01))
    assert pieces and gen.model is not None
    assert ticks >= 20  # ~0.5 s of loading at 10 ms a tick (fewer on a busy machine)
    assert worst < 0.25  # loose for a shared machine; the load runs in its own thread


async def _pieces(gen: TransformersGenerator, max_tokens: int) -> list[str]:
    return [p async for p in gen.stream(MultimodalPrompt(user="hi", max_tokens=max_tokens))]


async def _ticking(work: Any, interval_s: float) -> tuple[Any, int, float]:
    """``work``'s result, with how often a ticker sleeping ``interval_s`` ran meanwhile and its worst gap (the loop
    stays free when both are healthy)."""
    ticks, worst = 0, 0.0

    async def ticker() -> None:
        nonlocal ticks, worst
        last = time.perf_counter()
        while True:
            await asyncio.sleep(interval_s)
            now = time.perf_counter()
            worst, last, ticks = max(worst, now - last), now, ticks + 1

    task = asyncio.create_task(ticker())
    try:
        return await work, ticks, worst
    finally:
        task.cancel()
