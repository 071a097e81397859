"""Who answers the items: the two reference baselines, or model backends (one generator per endpoint, round-robin)."""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from typing import Protocol, Sequence

from benchmarks.humansense.loader import Item
from benchmarks.humansense.tasks import MULTI, NUMERIC, SINGLE, YES_NO
from dialogue.settings import BrainSettings
from dialogue.types import MultimodalPrompt, TextGenerator

BACKENDS: tuple[str, ...] = ("baseline:first", "baseline:random", "llama", "openai", "transformers")


class Answerer(Protocol):
    """Answers one item's prompt with raw text (stored as is in the results file)."""

    name: str

    async def answer(self, prompt: MultimodalPrompt, item: Item) -> str:
        ...

    async def aclose(self) -> None:
        ...


def _letters(item: Item) -> str:
    return "ABCDE"[:len(item.options)]


@dataclass
class BaselineAnswerer:
    """A reference floor that never looks at the media: ``first`` takes the first choice, ``random`` a seeded one.

    ``random`` draws from a generator seeded by (seed, item index), so answers do not
    depend on the order items finish in. With ``think`` the answer is wrapped in the
    reasoning format's ``<answer>`` tag.
    """
    kind: str
    seed: int = 0
    think: bool = False

    @property
    def name(self) -> str:
        return f"baseline:{self.kind}"

    def _choice(self, item: Item) -> str:
        rng = random.Random(self.seed * 1_000_003 + item.index)
        first = self.kind == "first"
        pattern = item.pattern
        if pattern == SINGLE:
            return "A" if first else rng.choice(_letters(item))
        if pattern == MULTI:
            if first:
                return "A"
            return "".join(sorted(rng.sample(_letters(item), rng.randint(1, len(item.options)))))
        if pattern == NUMERIC:
            return "0" if first else str(rng.randint(0, 10))
        if pattern == YES_NO:
            return "Yes" if first else rng.choice(("Yes", "No"))
        raise ValueError(f"item {item.index}: unknown question_pattern {pattern!r}")

    async def answer(self, prompt: MultimodalPrompt, item: Item) -> str:
        text = self._choice(item)
        return f"<think>baseline</think><answer>{text}</answer>" if self.think else text

    async def aclose(self) -> None:
        return None


class GeneratorAnswerer:
    """Streams each answer from a model; items are spread round-robin over the generators (one per endpoint)."""

    def __init__(self, generators: Sequence[TextGenerator]) -> None:
        if not generators:
            raise ValueError("GeneratorAnswerer needs at least one generator")
        self.generators = list(generators)
        self.name = self.generators[0].name
        self._next = itertools.cycle(self.generators)

    async def answer(self, prompt: MultimodalPrompt, item: Item) -> str:
        generator = next(self._next)
        return "".join([piece async for piece in generator.stream(prompt)])

    async def aclose(self) -> None:
        for generator in self.generators:
            await generator.aclose()


def media_taken(backend: str, brain: BrainSettings) -> tuple[bool, bool]:
    """(images, audio): whether the backend's model is given frames and audio. llama reads text only; the others as
    brain.send_images and brain.send_audio say (both off: a text model behind an OpenAI-compatible server)."""
    if backend == "llama":
        return False, False
    return brain.send_images, brain.send_audio


def make_answerer(backend: str, brain: BrainSettings, *, model: str | None = None,
                  endpoints: Sequence[str] = (), seed: int = 0, think: bool = False) -> Answerer:
    """The answerer a ``--backend`` names; model backends are imported only when asked for."""
    if backend in ("baseline:first", "baseline:random"):
        return BaselineAnswerer(kind=backend.split(":", 1)[1], seed=seed, think=think)
    if model:
        brain = replace(brain, model=model)
    if backend == "llama":
        from dialogue.brains import make_generator

        brain = replace(brain, backend="llama")
        brain.validate()
        # One generator: it queues concurrent requests itself, and one model in memory is enough.
        return GeneratorAnswerer([make_generator(brain)])
    if backend == "openai":
        from dialogue.openai_backend import OpenAIGenerator

        return GeneratorAnswerer([OpenAIGenerator(brain, base_url=url) for url in (endpoints or [brain.base_url])])
    if backend == "transformers":
        from dialogue.transformers_backend import TransformersGenerator

        return GeneratorAnswerer([TransformersGenerator(brain)])
    raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
