"""The reasoning brain: prompt a multimodal LLM, parse its tagged answer as it streams, fall back when it fails."""
from __future__ import annotations

import logging
import re
from typing import AsyncIterator, Callable

from dialogue.errors import BrainError
from dialogue.parser import TagParser
from dialogue.prompt import build_prompt
from dialogue.settings import BrainSettings
from dialogue.types import Brain, BrainDelta, BrainView, TextGenerator

logger = logging.getLogger(__name__)

_DECISION_TAG = re.compile(r"<\s*decision", re.IGNORECASE)


class LlmBrain:
    """A Brain over any TextGenerator; ``thinking`` holds the last answer's <think> text for the trace."""

    def __init__(self, generator: TextGenerator, settings: BrainSettings, fallback: Brain | None = None) -> None:
        self.generator = generator
        # The memory counts history with the model's own tokenizer where the backend has one.
        self.count_tokens: Callable[[str], int] | None = getattr(generator, "count_tokens", None)
        self.settings = settings
        self.fallback = fallback
        self.name = f"llm:{generator.name}"
        self.thinking = ""
        self.warnings: list[str] = []

    async def respond(self, view: BrainView) -> AsyncIterator[BrainDelta]:
        """Stream decision, emotion and text as the model writes them.

        A failure before anything was said (endpoint down, rejected request,
        timeout, broken stream, or an answer with neither decision nor text)
        yields a ``fallback:`` note and the fallback brain's answer; a failure
        after text went out only ends the answer with a note.
        """
        prompt = build_prompt(view, self.settings)
        parser = TagParser()
        self.thinking = ""
        raw: list[str] = []
        committed = False
        reason: str | None = None
        try:
            async for chunk in self.generator.stream(prompt):
                raw.append(chunk)
                for delta in parser.feed(chunk):
                    committed = True
                    yield delta
            tail = parser.close()
            if committed or _DECISION_TAG.search("".join(raw)):
                for delta in tail:
                    yield delta
                committed = True
            else:
                reason = "the model answered with no decision and no response" + (
                    "" if "".join(raw).strip() else " (empty reply)")
        except BrainError as exc:
            reason = str(exc)
        except (OSError, RuntimeError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.thinking = parser.thinking
            self.warnings = list(parser.warnings)
        if reason is None:
            return
        reason = " ".join(reason.split())
        if committed:
            logger.warning("brain %s failed mid-answer: %s", self.name, reason)
            yield BrainDelta(note=f"error: {reason}")
            return
        logger.warning("brain %s failed, falling back: %s", self.name, reason)
        yield BrainDelta(note=f"fallback: {reason}")
        if self.fallback is not None:
            async for delta in self.fallback.respond(view):
                yield delta

    async def warm_up(self) -> None:
        # Generators may load or connect ahead of the first answer; the protocol does not require it.
        warm = getattr(self.generator, "warm_up", None)
        if warm is not None:
            try:
                await warm()
            except (BrainError, OSError, RuntimeError) as exc:
                logger.warning("brain %s warm-up failed: %s", self.name, exc)
        if self.fallback is not None:
            await self.fallback.warm_up()

    async def aclose(self) -> None:
        await self.generator.aclose()
        if self.fallback is not None:
            await self.fallback.aclose()
