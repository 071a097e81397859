"""The reasoning brain: prompt an LLM, parse its tagged answer as it streams, cover a slow start, fall back on failure.

The prompt is built for the engine's prefix cache (``dialogue.prompt``) and, where the
engine can, constrained to the answer format (``brain.structured``). The engine's speed is
measured (``dialogue.engine_speed``): when the first sentence will not be ready by
``policy.first_sentence_deadline_ms``, an acknowledgement that fits the person's mood is
said at once and the model, told so, goes on from it; and every wait is what this prompt
needs on this engine, not one fixed number.

Failures it absorbs (nothing but cancellation leaves ``respond``): any exception from the
generator, a stream that goes silent before the first words (longer than the measured
speed allows) or after them (``stall_timeout_s``), one that streams without ever reaching
words to speak, and an answer with nothing usable in it. A circuit breaker
(``dialogue.breaker``) skips the model for a while after repeated failures, so a dead
backend stops costing every turn its retries. Every repair the parser makes to a
malformed answer is a ``repair:`` note.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import AsyncIterator, Callable

from dialogue.answer_format import JsonAnswerReader, answer_format
from dialogue.breaker import Admission, CircuitBreaker
from dialogue.cue_brain import CueBrain
from dialogue.engine_speed import EngineSpeed
from dialogue.errors import BrainError
from dialogue.memory import estimate_tokens
from dialogue.parser import CUT_OFF, TagParser
from dialogue.prompt import TurnKey, build_prompt, current_key, fit_context, heard_prefix, turn_key
from dialogue.settings import BrainSettings, PolicySettings
from dialogue.types import Acknowledgement, Brain, BrainDelta, BrainView, MultimodalPrompt, TextGenerator
from floor import error_line

logger = logging.getLogger(__name__)

_DECISION_TAG = re.compile(r"<\s*decision", re.IGNORECASE)
_CLOSE_WAIT_S = 1.0
"""The longest an abandoned stream may take to close before the fallback answers anyway."""


class _Stalled(Exception):
    """The model's stream stopped making progress (the watchdog's verdict). ``silent``: nothing at all came back
    since the request, as from a dead engine; a stream that came back too slowly (a busy CPU, a long think)
    costs its turn the fallback, but is no reason to stop asking the model."""

    def __init__(self, message: str, silent: bool) -> None:
        super().__init__(message)
        self.silent = silent


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
    return {name for name in ("decision", "emotion", "text", "acknowledgement") if getattr(delta, name)}


class LlmBrain:
    """A Brain over any TextGenerator; ``thinking`` holds the last answer's <think> text for the trace.

    ``clock`` (seconds, monotonic) only times the circuit breaker's cooldown; the
    stream watchdog uses the event loop's timers.
    """

    def __init__(self, generator: TextGenerator, settings: BrainSettings, fallback: Brain | None = None,
                 clock: Callable[[], float] = time.monotonic, policy: PolicySettings | None = None) -> None:
        self.generator = generator
        # The memory counts history with the model's own tokenizer where the backend has one.
        self.count_tokens: Callable[[str], int] | None = getattr(generator, "count_tokens", None)
        self.settings = settings
        self.policy = policy or PolicySettings()
        self.fallback = fallback
        self.name = f"llm:{generator.name}"
        self.target: str = getattr(generator, "target", generator.name)
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s)
        self.speed = EngineSpeed()
        self.format = answer_format(settings.structured, settings.reasoning_tokens  # type: ignore[arg-type]
                                    if settings.reasoning == "hidden" else 0)
        self._acks = fallback if isinstance(fallback, CueBrain) else CueBrain(settings, policy)
        self._clock = clock
        self._sent: dict[TurnKey, str] = {}  # the message sent for each user turn, so history repeats it exactly
        self.thinking = ""
        self.warnings: list[str] = []
        self.last_prefill_tokens: int | None = None

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
                slow = isinstance(exc, _Stalled) and not exc.silent
            except Exception as exc:  # a backend bug must cost one answer, never the turn
                reason = f"{self.target}: {error_line(exc, typed=True)}"
                slow = False
            if reason is None:
                return
            verdict = None if slow else False
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

    def prefetch(self, view: BrainView) -> None:
        """Have the engine evaluate what the next request will start with (the history and the words heard so
        far) while the person is still speaking; nothing for engines that cannot, or while the breaker is open."""
        prefetch = getattr(self.generator, "prefetch", None)
        if prefetch is None or self.breaker.state(self._clock()) != "closed":
            return
        prefetch(self._prompt(view), heard_prefix(view))

    def request(self, view: BrainView) -> MultimodalPrompt:
        """The request this brain would send for ``view``, in the exact shape (parts, format, history)."""
        return self._prompt(view)

    def _prompt(self, view: BrainView, said_already: str = "") -> MultimodalPrompt:
        prompt = build_prompt(view, self.settings, sent=self._sent, said_already=said_already)
        answer = self.format.for_trigger(view.trigger) if self.format is not None else None
        prompt, dropped = fit_context(replace(prompt, answer_format=answer), self.count_tokens or estimate_tokens,
                                      self.settings.context_size)
        if dropped:
            logger.info("brain %s: %d history messages left out to fit the context (%d tokens)", self.name, dropped,
                        self.settings.context_size)
        return prompt

    async def _plan(self, view: BrainView) -> tuple[MultimodalPrompt, Acknowledgement | None, int]:
        """The request, the acknowledgement that covers a slow start (if one is needed), and its prefill size."""
        prompt = self._prompt(view)
        prefill = await self._prefill_tokens(prompt)
        deadline = self.policy.first_sentence_deadline_ms / 1000
        if (not deadline or view.trigger not in ("end_of_turn", "preemptive") or not self.speed.measured
                or self._first_sentence_s(prefill) <= deadline):
            return prompt, None, prefill
        ack = self._acks.acknowledgement(view)
        if ack is None:
            return prompt, None, prefill
        prompt = self._prompt(view, said_already=ack.text)
        return prompt, ack, await self._prefill_tokens(prompt)

    def _first_sentence_s(self, prefill: int) -> float:
        expected = self.speed.first_sentence_s(prefill)
        if self.format is not None and self.format.reasoning_tokens:
            expected += self.speed.decode_s(self.format.reasoning_tokens // 2)
        return expected

    async def _prefill_tokens(self, prompt: MultimodalPrompt) -> int:
        """What the engine must evaluate of ``prompt``: exact where the generator knows its cache, else estimated."""
        count = getattr(self.generator, "prefill_tokens", None)
        if count is None:
            return sum(estimate_tokens(t) for t in (prompt.system, *(t for _, t in prompt.history), prompt.user))
        return await asyncio.to_thread(count, prompt)

    def _waits(self, prefill: int) -> tuple[float, float]:
        """(wait for the first piece and between pieces before words, cap on the time to the first words)."""
        s = self.settings
        first = self.speed.wait_s(prefill, s.first_text_timeout_s, s.timeout_s)
        reasoning = self.format.reasoning_tokens if self.format is not None else 0
        if not self.speed.measured:
            return first, s.think_timeout_s
        return first, max(s.think_timeout_s, first + 2 * self.speed.decode_s(reasoning))

    async def _model_answer(self, view: BrainView) -> AsyncIterator[BrainDelta]:
        """The model's parsed answer; raises on any failure, the watchdog's stalls included."""
        parser = TagParser()
        reader = JsonAnswerReader() if self.format is not None and self.format.kind == "json" else None
        self.thinking = ""
        raw: list[str] = []
        committed = False  # some delta went out
        spoken = False  # some words went out
        chunks: asyncio.Queue[object] = asyncio.Queue()
        pump: asyncio.Task[None] | None = None
        think_cap: asyncio.TimerHandle | None = None
        s = self.settings
        prompt, ack, prefill = await self._plan(view)
        self.last_prefill_tokens = prefill
        first_wait, think_s = self._waits(prefill)
        started = time.perf_counter()
        first_words: float | None = None
        try:
            if ack is not None:
                yield BrainDelta(acknowledgement=ack)
            stream = self.generator.stream(prompt)
            pump = asyncio.create_task(_pump(stream, chunks), name=f"{self.name}-stream")
            think_cap = asyncio.get_running_loop().call_later(think_s, chunks.put_nowait, _THINK_CAP)
            while True:
                gap = s.stall_timeout_s if spoken else first_wait
                try:
                    async with asyncio.timeout(gap):  # not wait_for: on 3.11 it can swallow a cancel racing the result
                        item = await chunks.get()
                except TimeoutError:
                    where = "mid-answer" if spoken else "before any words"
                    raise _Stalled(f"{self.target}: stream stalled {where} (nothing for {gap:.3g} s)",
                                   silent=not raw) from None
                if item is _END:
                    break
                if item is _THINK_CAP:
                    if spoken:
                        continue
                    raise _Stalled(f"{self.target}: no words to speak after {think_s:.3g} s", silent=not raw)
                if isinstance(item, _Failed):
                    raise item.error
                assert isinstance(item, str)
                raw.append(item)
                for delta in parser.feed(reader.feed(item) if reader is not None else item):
                    committed = True
                    if delta.text and not spoken:
                        spoken = True
                        first_words = time.perf_counter() - started
                        think_cap.cancel()
                    yield delta
            tail = parser.close()
            if not committed and not _DECISION_TAG.search("".join(raw)):
                raise BrainError(f"{self.target}: the model answered with no decision and no response" + (
                    "" if "".join(raw).strip() else " (empty reply)"))
            for delta in tail:
                yield delta
            self._remember(view, prompt)
            stats = getattr(self.generator, "last_stats", None)
            cut = stats is not None and stats.truncated
            for warning in parser.warnings:
                if cut and warning == CUT_OFF:  # the token limit ended it mid-tag: a length, not a format, problem
                    logger.info("brain %s: the answer reached brain.max_new_tokens", self.name)
                else:
                    yield BrainDelta(note=f"repair: {warning}")
        finally:
            self.thinking = parser.thinking
            self.warnings = list(parser.warnings)
            if think_cap is not None:
                think_cap.cancel()
            if pump is not None:
                pump.cancel()  # a no-op once it finished; else the stream is abandoned and its connection closed
                await asyncio.wait([pump], timeout=_CLOSE_WAIT_S)
            stats = getattr(self.generator, "last_stats", None)
            if stats is not None and pump is not None and pump.done():
                self.speed = self.speed.observe(stats, first_words)
                logger.debug("brain %s: %s of %s prompt tokens evaluated in %s s, first words at %s s", self.name,
                             stats.prefilled_tokens, stats.prompt_tokens, stats.prefill_s, first_words)

    def _remember(self, view: BrainView, prompt: MultimodalPrompt) -> None:
        """Keep the message sent for this turn (to repeat it in later histories), and only those still in view."""
        key = current_key(view)
        if key is None:
            return
        live = {turn_key(t) for t in view.history}
        self._sent = {k: v for k, v in self._sent.items() if k in live}
        self._sent[key] = prompt.user

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
            yield BrainDelta(note=f"error: fallback {self.fallback.name} failed: {error_line(exc, typed=True)}")

    def acknowledgement(self, view: BrainView) -> Acknowledgement | None:
        """A short phrase that fits the person's mood, for when the answer is late (the runtime's deadline)."""
        return self._acks.acknowledgement(view)

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
        """Load the model, put the fixed system prompt in the engine's cache and time the engine.

        A failure is logged, not raised: the first answer reports it (and falls back); start-up goes on.
        """
        warm = getattr(self.generator, "warm_up", None)
        if warm is not None:
            try:
                prompt = self._prompt(BrainView(t=0.0))
                await warm(replace(prompt, user=""))
                stats = getattr(self.generator, "last_stats", None)
                if stats is not None:
                    self.speed = self.speed.observe(stats)
                self.prefetch(BrainView(t=0.0))
            except Exception as exc:
                logger.warning("brain %s warm-up failed: %s: %s", self.name, type(exc).__name__, exc)
        if self.fallback is not None:
            await self.fallback.warm_up()

    async def aclose(self) -> None:
        await self.generator.aclose()
        if self.fallback is not None:
            await self.fallback.aclose()
