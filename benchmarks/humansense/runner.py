"""Running the items: bounded concurrency, media preparation in a thread pool, each answer saved as it arrives."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Literal

from benchmarks.humansense.answerers import Answerer
from benchmarks.humansense.cache import MediaCache, cache_key
from benchmarks.humansense.loader import Dataset, Item
from benchmarks.humansense.media import MediaError, Prepared, media_kind, prepare
from benchmarks.humansense.prompts import QWEN_OMNI_SYSTEM, build_prompt
from benchmarks.humansense.results import ResultsFile
from benchmarks.humansense.tasks import AUDIO_TASKS
from dialogue.types import MultimodalPrompt
from floor import error_line

logger = logging.getLogger(__name__)

EMPTY_ANSWER = ("the model gave an empty answer; a server that stops a request when the next one arrives ends it so "
                "(llama-cpp-python's server unless started with --interrupt_requests false): try --concurrency 1")

Perception = Callable[[Prepared], str]


@dataclass(frozen=True)
class EvalOptions:
    variant: str = "plain"
    think: bool | None = None
    audio_columns: frozenset[str] = AUDIO_TASKS
    """Columns given their soundtrack; empty turns audio off (audio-only items are then skipped)."""
    tasks: frozenset[str] | None = None
    limit: int | None = None
    concurrency: int = 4
    prep_threads: int = 2
    system: str = QWEN_OMNI_SYSTEM
    max_tokens: int = 512
    send_images: bool = True
    """The model takes images (brain.send_images; never llama): the sampled frames go into its prompts."""
    send_audio: bool = True
    """The model takes audio (brain.send_audio; never llama): the soundtrack goes in as ``audio_columns`` say."""

    @property
    def text_only(self) -> bool:
        """No frames and no audio go into any prompt: the agent variant's perception text is all the model learns
        of the media."""
        return not (self.send_images or self.send_audio)


# What a variant's prompt text tells the model about the media (the others: nothing).
_MEDIA_TEXT = {"agent": "agent perception: transcript, cues", "asr": "the item's published asr_en transcript"}


def _text_only(variant: str) -> str:
    return f"text only ({_MEDIA_TEXT.get(variant, 'the question alone')}); no frames or audio sent"


def describe_input(prompt: MultimodalPrompt, variant: str) -> str:
    """What the model was given for one answer, recorded beside it in the results file."""
    heard = prompt.audio is not None and prompt.audio.size > 0
    if not prompt.images and not heard:
        return _text_only(variant)
    given = f"frames: {len(prompt.images)}, audio: {'yes' if heard else 'no'}"
    return f"{given}; {_MEDIA_TEXT[variant]}" if variant in _MEDIA_TEXT else given


def input_mode(options: EvalOptions) -> str:
    """What the model is given in a whole run, in one line (each answer's own is in the results file)."""
    if options.text_only:
        return _text_only(options.variant)
    media = ["frames"] if options.send_images else []
    if options.send_audio and options.audio_columns:
        media.append(f"audio ({' '.join(sorted(options.audio_columns))}, and audio-only items)")
    sent = " and ".join(media) + " sent" if media else "no frames or audio sent"
    return f"{sent}; {_MEDIA_TEXT[options.variant]}" if options.variant in _MEDIA_TEXT else sent


@dataclass(frozen=True)
class _Outcome:
    """One item's end: "answer" (``text``, and ``given``: what the model was given), "failed" or "skipped" (``text``
    says why)."""
    kind: Literal["answer", "failed", "skipped"]
    text: str
    given: str = ""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    answered: int
    skipped: int
    failed: int


@dataclass(frozen=True)
class Summary:
    """``already``: answered in an earlier run (resumed); ``skip_reasons``/``errors`` say why items were not answered."""
    answered: int
    skipped: int
    failed: int
    already: int
    selected: int
    skip_reasons: dict[str, int] = field(default_factory=dict)
    errors: tuple[tuple[int, str], ...] = ()
    wall_s: float = 0.0
    prepare_s: float = 0.0
    answer_s: float = 0.0


class _Counts:
    def __init__(self) -> None:
        self.answered = self.skipped = self.failed = 0
        self.skip_reasons: Counter[str] = Counter()
        self.errors: list[tuple[int, str]] = []
        self.prepare_s = self.answer_s = 0.0


def select(dataset: Dataset, options: EvalOptions) -> list[Item]:
    """The items a run covers: the --tasks filter, then the first --limit of them."""
    items = [i for i in dataset.items if options.tasks is None or i.column in options.tasks]
    return items[:options.limit] if options.limit is not None else items


async def run_eval(dataset: Dataset, answerer: Answerer, results: ResultsFile, options: EvalOptions, *,
                   cache: MediaCache | None = None, perception: Perception | None = None,
                   on_progress: Callable[[Progress], None] | None = None) -> Summary:
    """Answer every selected, not yet answered item; failures are recorded in the item and the run goes on."""
    if options.concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {options.concurrency}")
    if options.variant == "agent" and perception is None:
        raise ValueError("the agent variant needs a perception function")
    t0 = time.perf_counter()
    selected = select(dataset, options)
    pending = [i for i in selected if not results.answered(i)]
    already = len(selected) - len(pending)
    counts = _Counts()
    semaphore = asyncio.Semaphore(options.concurrency)
    loop = asyncio.get_running_loop()
    results.save_now()

    def report() -> None:
        if on_progress is not None:
            done = counts.answered + counts.skipped + counts.failed
            on_progress(Progress(done, len(pending), counts.answered, counts.skipped, counts.failed))

    def skip(item: Item, reason: str) -> None:
        counts.skipped += 1
        counts.skip_reasons[reason] += 1
        logger.info("item %d skipped: %s", item.index, reason)

    async def fail(item: Item, message: str) -> None:
        counts.failed += 1
        counts.errors.append((item.index, message))
        logger.info("item %d failed: %s", item.index, message)
        results.record_error(item, message)
        await results.save()

    def prepared_for(item: Item, audio: bool) -> Prepared:
        t = time.perf_counter()
        full, fps = item.q.get("full_frame_number"), item.q.get("fps")
        key = cache_key(item.media_path, full, fps, audio) if cache is not None and item.media_path.is_file() else None
        media = cache.get(key) if key is not None and cache is not None else None
        if media is None:
            media = prepare(item.media_path, full, fps, audio)
            if key is not None and cache is not None:
                cache.put(key, media)
        counts.prepare_s += time.perf_counter() - t
        return media

    def media_of(item: Item, audio: bool) -> Prepared:
        """What the model and the agent's perception need; for a text-only model's plain prompt that is nothing,
        but the file is still checked to be media, so broken items fail in every mode alike."""
        if options.text_only and options.variant != "agent":
            return Prepared(kind=media_kind(item.media_path))
        return prepared_for(item, audio)

    async def attempt(item: Item, executor: ThreadPoolExecutor) -> _Outcome:
        """The item's outcome; holds a concurrency slot only while working."""
        async with semaphore:
            plan = build_prompt(item, options.variant, think=options.think, audio_columns=options.audio_columns)
            if plan.text is None:
                return _Outcome("skipped", plan.skip_reason or "skipped")
            agent = options.variant == "agent"
            try:
                media = await loop.run_in_executor(executor, media_of, item,
                                                   (plan.audio and options.send_audio) or agent)
            except MediaError as exc:
                return _Outcome("failed", str(exc))
            except Exception as exc:  # an unreadable file must not stop the run
                return _Outcome("failed", f"{item.media_path}: {error_line(exc, typed=True)}")
            if media.kind == "audio" and not options.audio_columns:
                return _Outcome("skipped", "audio-only media and audio is off")
            if agent and perception is not None:
                summary = await loop.run_in_executor(executor, perception, media)
                plan = build_prompt(item, options.variant, think=options.think, audio_columns=options.audio_columns,
                                    perception=summary)
            give_audio = options.send_audio and (plan.audio or media.kind == "audio")
            prompt = MultimodalPrompt(user=plan.text or "", system=options.system,
                                      images=media.frames if options.send_images else (),
                                      audio=media.audio if give_audio else None, max_tokens=options.max_tokens)
            t = time.perf_counter()
            try:
                text = await answerer.answer(prompt, item)
            except Exception as exc:  # a failed request is recorded and the run goes on
                return _Outcome("failed", error_line(exc, typed=True))
            counts.answer_s += time.perf_counter() - t
            if not text:  # the published harness counts an empty answer as none: say so, do not count it answered
                return _Outcome("failed", EMPTY_ANSWER)
            return _Outcome("answer", text, describe_input(prompt, options.variant))

    async def one(item: Item, executor: ThreadPoolExecutor) -> None:
        outcome = await attempt(item, executor)
        if outcome.kind == "skipped":
            skip(item, outcome.text)
        elif outcome.kind == "failed":
            await fail(item, outcome.text)
        else:
            results.record_answer(item, outcome.text, outcome.given)
            counts.answered += 1
            await results.save()

    async def guarded(item: Item, executor: ThreadPoolExecutor) -> None:
        await one(item, executor)
        report()

    with ThreadPoolExecutor(max_workers=options.prep_threads, thread_name_prefix="hs-media") as executor:
        await asyncio.gather(*(guarded(item, executor) for item in pending))
    await results.save()
    return Summary(answered=counts.answered, skipped=counts.skipped, failed=counts.failed, already=already,
                   selected=len(selected), skip_reasons=dict(counts.skip_reasons), errors=tuple(counts.errors),
                   wall_s=time.perf_counter() - t0, prepare_s=counts.prepare_s, answer_s=counts.answer_s)
