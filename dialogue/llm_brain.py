"""The reasoning brain: prompt a multimodal LLM, parse its tagged answer as it streams, fall back when it fails.

Failures it absorbs (nothing but cancellation leaves ``respond``): any exception
from the generator, a stream that goes silent (``first_text_timeout_s`` before the
first words, ``stall_timeout_s`` after), one that streams without ever reaching
words to speak (``think_timeout_s``), and an answer with nothing usable in it. A
circuit breaker (``dialogue.breaker``) skips the model for a while after repeated
failures, so a dead backend stops costing every turn its retries.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from dialogue.breaker import Admission, CircuitBreaker
from dialogue.errors import BrainError
from dialogue.parser import TagParser
from dialogue.prompt import build_prompt
from dialogue.settings import BrainSettings
from dialogue.types import Brain, BrainDelta, BrainView, TextGenerator

logger = logging.getLogger(__name__)

_DECISION_TAG = re.compile(r"<\s*decision", re.IGNORECASE)
_CLOSE_WAIT_S = 1.0
"""The longest an abandoned stream may take to close before the fallback answers anyway."""


class _Stalled(Exception):
    """The model's stream stopped making progress (the watchdog's verdict)."""


@dataclass(frozen=True)
class _Failed:
    error: Exception


_END = object()  # the stream finished
_THINK_CAP = object()  # think_timeout_s passed since the request


async def _pump(stream: AsyncIterator[str], chunks: asyncio.Queue[object]) -> None:
    """Move the stream's pieces into ``chunks`` from one task, so its connection is opened and closed in one place."""
    try:
        async for chunk in stream:
            chunks.put_nowait(chunk)
        chunks.put_nowait(_END)
    except Exception as exc:  # handed to respond, which decides what the failure means
        chunks.put_nowait(_Failed(exc))
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def _fields(delta: BrainDelta) -> set[str]:
    return {name for name in ("decision", "emotion", "text") if getattr(delta, name)}


class LlmBrain:
    """A Brain over any TextGenerator; ``thinking`` holds the last answer's <think> text for the trace.

    ``clock`` (seconds, monotonic) only times the circuit breaker's cooldown; the
    stream watchdog uses the event loop's timers.
    """

    def __init__(self, generator: TextGenerator, settings: BrainSettings, fallback: Brain | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.generator = generator
        # The memory counts history with the model's own tokenizer where the backend has one.
        self.count_tokens: Callable[[str], int] | None = getattr(generator, "count_tokens", None)
        self.settings = settings
        self.fallback = fallback
        self.name = f"llm:{generator.name}"
        self.target: str = getattr(generator, "target", generator.name)
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s)
        self._clock = clock
        self.thinking = ""
        self.warnings: list[str] = []

    async def respond(self, view: BrainView) -> AsyncIterator[BrainDelta]:
        """Stream decision, emotion and text as the model writes them.

        A failure before any words (endpoint down, rejected request, timeout,
        broken or silent stream, an answer with neither decision nor text) yields
        a ``fallback:`` note and the fallback brain's answer, less the fields the
        model already gave; a failure after words went out (or after the model
        decided to wait) only ends the answer with an ``error:`` note. While the
        circuit breaker is open the model is not asked at all.
        """
        self.breaker, admission = self.breaker.admit(self._clock())
        if not admission.call:
            self.thinking, self.warnings = "", []
            async with aclosing(self._fall_back(view, self._skip_note(admission), set())) as deltas:
                async for delta in deltas:
                    yield delta
            return
        said: set[str] = set()
        decision: str | None = None
        reason: str | None = None
        verdict: bool | None = None  # answered / failed; None when the consumer stopped listening first
        try:
            try:
                async with aclosing(self._model_answer(view)) as deltas:
                    async for delta in deltas:
                        said |= _fields(delta)
                        decision = delta.decision or decision
                        if delta.text:
                            verdict = True  # the model works; a later stall still counts against it
                        yield delta
                verdict = True
            except (BrainError, _Stalled) as exc:
                reason = str(exc)
            except Exception as exc:  # a backend bug must cost one answer, never the turn
                reason = f"{self.target}: {type(exc).__name__}: {exc}"
            if reason is None:
                return
            verdict = False
            reason = " ".join(reason.split())
            if "text" in said or decision == "wait":
                # Words already went out (they cannot be taken back), or the model chose silence: nothing to add.
                logger.warning("brain %s failed mid-answer: %s", self.name, reason)
                yield BrainDelta(note=f"error: {reason}")
                return
            logger.warning("brain %s failed, falling back: %s", self.name, reason)
            async with aclosing(self._fall_back(view, f"fallback: {reason}", said)) as deltas:
                async for delta in deltas:
                    yield delta
        finally:
            self._record(verdict, admission)

    async def _model_answer(self, view: BrainView) -> AsyncIterator[BrainDelta]:
        """The model's parsed answer; raises on any failure, the watchdog's stalls included."""
        parser = TagParser()
        self.thinking = ""
        raw: list[str] = []
        committed = False  # some delta went out
        spoken = False  # some words went out
        chunks: asyncio.Queue[object] = asyncio.Queue()
        pump: asyncio.Task[None] | None = None
        think_cap: asyncio.TimerHandle | None = None
        s = self.settings
        try:
            stream = self.generator.stream(build_prompt(view, s))
            pump = asyncio.create_task(_pump(stream, chunks), name=f"{self.name}-stream")
            think_cap = asyncio.get_running_loop().call_later(s.think_timeout_s, chunks.put_nowait, _THINK_CAP)
            while True:
                gap = s.stall_timeout_s if spoken else s.first_text_timeout_s
                try:
                    async with asyncio.timeout(gap):  # not wait_for: on 3.11 it can swallow a cancel racing the result
                        item = await chunks.get()
                except TimeoutError:
                    where = "mid-answer" if spoken else "before any words"
                    raise _Stalled(f"{self.target}: stream stalled {where} (nothing for {gap:g} s)") from None
                if item is _END:
                    break
                if item is _THINK_CAP:
                    if spoken:
                        continue
                    raise _Stalled(f"{self.target}: no words to speak after {s.think_timeout_s:g} s")
                if isinstance(item, _Failed):
                    raise item.error
                assert isinstance(item, str)
                raw.append(item)
                for delta in parser.feed(item):
                    committed = True
                    if delta.text and not spoken:
                        spoken = True
                        think_cap.cancel()
                    yield delta
            tail = parser.close()
            if not committed and not _DECISION_TAG.search("".join(raw)):
                raise BrainError(f"{self.target}: the model answered with no decision and no response" + (
                    "" if "".join(raw).strip() else " (empty reply)"))
            for delta in tail:
                yield delta
        finally:
            self.thinking = parser.thinking
            self.warnings = list(parser.warnings)
            if think_cap is not None:
                think_cap.cancel()
            if pump is not None:
                pump.cancel()  # a no-op once it finished; else the stream is abandoned and its connection closed
                await asyncio.wait([pump], timeout=_CLOSE_WAIT_S)

    async def _fall_back(self, view: BrainView, note: str, said: set[str]) -> AsyncIterator[BrainDelta]:
        """The note, then the fallback brain's answer without the fields the model already gave."""
        yield BrainDelta(note=note)
        if self.fallback is None:
            return
        try:
            async with aclosing(self.fallback.respond(view)) as deltas:  # type: ignore[type-var]
                async for delta in deltas:
                    if not _fields(delta) & said:
                        yield delta
        except Exception as exc:  # the last resort must not take the turn down either
            logger.error("fallback brain %s failed: %s: %s", self.fallback.name, type(exc).__name__, exc)
            logger.debug("fallback brain failure", exc_info=exc)
            yield BrainDelta(note=f"error: fallback {self.fallback.name} failed: {type(exc).__name__}: {exc}")

    def _skip_note(self, admission: Admission) -> str:
        if not admission.first_skip:
            return f"fallback: {self.target} still skipped"  # said in full once per opening; this marks the turn
        note = (f"fallback: {self.target} skipped for {admission.retry_in_s:.0f} s "
                f"after {self.breaker.failures} failures")
        logger.warning("brain %s: %s", self.name, note)
        return note

    def _record(self, verdict: bool | None, admission: Admission) -> None:
        if verdict is True:
            if self.breaker.opened_at is not None:
                logger.info("brain %s: %s answers again; circuit closed", self.name, self.target)
            self.breaker = self.breaker.succeeded()
        elif verdict is False:
            self.breaker = self.breaker.failed(self._clock())
        elif admission.trial:
            self.breaker = self.breaker.released()

    async def warm_up(self) -> None:
        # Generators may load or connect ahead of the first answer; the protocol does not require it.
        warm = getattr(self.generator, "warm_up", None)
        if warm is not None:
            try:
                await warm()
            except Exception as exc:  # the first answer reports it (and falls back); startup goes on
                logger.warning("brain %s warm-up failed: %s: %s", self.name, type(exc).__name__, exc)
        if self.fallback is not None:
            await self.fallback.warm_up()

    async def aclose(self) -> None:
        await self.generator.aclose()
        if self.fallback is not None:
            await self.fallback.aclose()
