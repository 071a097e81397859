"""The loaded models a process shares across sessions, and the lanes (thread pools) their calls run in off the loop."""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import numpy as np

from agent.config import Config
from dialogue.brains import make_brain
from dialogue.types import Brain
from floor import SAMPLE_RATE, resample
from perception.asr import make_transcriber
from perception.end_of_turn import SmartTurn
from perception.vision import FaceAnalyzer
from perception.settings import EndOfTurnSettings
from perception.vad import SileroNet
from speech.tts import make_tts
from speech.transform import trim_silence
from speech.types import SpokenAudio, Style, Tts

logger = logging.getLogger(__name__)
T = TypeVar("T")


class LaneTimeout(TimeoutError):
    """A model call did not return within ``session.lane_timeout_s``."""


@dataclass
class Models:
    """One copy of each heavy model per process; sessions borrow them."""

    config: Config
    vad: SileroNet
    transcriber: Any
    end_of_turn: SmartTurn | None
    tts: Tts
    brain: Brain
    lanes: dict[str, ThreadPoolExecutor]
    load_s: dict[str, float] = field(default_factory=dict)
    hung_calls: int = 0  # calls abandoned by a lane timeout; their threads may still be running
    phrases: dict[tuple[str, Style], tuple[SpokenAudio, np.ndarray]] = field(default_factory=dict)  # shared by sessions

    @classmethod
    def load(cls, config: Config) -> "Models":
        load_s: dict[str, float] = {}

        def timed(name: str, fn: Callable[[], T]) -> T:
            t0 = time.perf_counter()
            value = fn()
            load_s[name] = time.perf_counter() - t0
            return value

        if config.vision.enabled:  # each session builds its own analyzer: a bad model path fails here, once, first
            timed("vision", lambda: FaceAnalyzer(config.vision, config.face, config.expression))
        with ThreadPoolExecutor(max_workers=3) as pool:
            asr_f = pool.submit(timed, "asr", lambda: make_transcriber(config.asr))
            turn_f = pool.submit(timed, "end_of_turn", lambda: _warm_turn(config.end_of_turn))
            tts_f = pool.submit(timed, "tts", lambda: _warm_tts(make_tts(config.tts)))
            brain = timed("brain", lambda: make_brain(config.brain, config.policy))
            vad = timed("vad", lambda: SileroNet.for_settings(config.vad))
            transcriber = asr_f.result()
            end_of_turn = turn_f.result()
            tts = tts_f.result()
        warm = getattr(transcriber, "warm_up", None)
        if callable(warm):
            timed("asr_warm_up", warm)
        return cls(config=config, vad=vad, transcriber=transcriber, end_of_turn=end_of_turn, tts=tts, brain=brain,
                   lanes=make_lanes(config), load_s=load_s)

    async def warm_up_brain(self) -> None:
        """Load and exercise the brain before the first turn (a local LLM loads its weights here)."""
        t0 = time.perf_counter()
        await self.brain.warm_up()
        self.load_s["brain_warm_up"] = time.perf_counter() - t0

    async def run(self, lane: str, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call in its lane: ``vad``, ``asr``, ``end_of_turn``, ``tts``, ``vision`` or ``cues``.

        Each lane is its own thread pool, so the VAD (which gates everything) never queues behind a
        transcription, and one-thread lanes serialize their model. A call cancelled while still queued
        never runs: a discarded speculative transcription does not delay the next one. A call still
        running after ``session.lane_timeout_s`` raises :class:`LaneTimeout`; the lane gets a fresh
        thread so later calls do not queue behind the hung one (which is left to finish on its own).
        """
        pool = self.lanes[lane]
        future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        timeout = self.config.session.lane_timeout_s
        try:
            async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can swallow a cancel that races the result
                return await future
        except TimeoutError:
            if self.lanes[lane] is pool:
                self.lanes[lane] = _lane(lane, lane_threads(self.config)[lane])
                pool.shutdown(wait=False, cancel_futures=True)
                self.hung_calls += 1
            raise LaneTimeout(f"{lane}: no result after {timeout:g} s (session.lane_timeout_s)") from None

    def synthesize(self, sentence: str, style: Style) -> tuple[SpokenAudio, np.ndarray]:
        """TTS one sentence; also returns the 16 kHz copy the recording and the network use (blocking)."""
        samples = self.tts.synthesize(sentence, style)
        if self.config.tts.trim_silence:
            samples = trim_silence(samples, self.tts.sample_rate)
        pcm16k = resample(samples, self.tts.sample_rate, SAMPLE_RATE)
        return SpokenAudio(sentence, samples, self.tts.sample_rate), pcm16k

    async def aclose(self) -> None:
        await self.brain.aclose()
        for pool in self.lanes.values():
            pool.shutdown(wait=False, cancel_futures=True)


def lane_threads(config: Config) -> dict[str, int]:
    return {"vad": 1, "asr": 1, "end_of_turn": 1, "tts": 1, "cues": 1, "vision": config.session.vision_threads}


def make_lanes(config: Config) -> dict[str, ThreadPoolExecutor]:
    return {name: _lane(name, n) for name, n in lane_threads(config).items()}


def _lane(name: str, threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"lane-{name}")


def _warm_turn(settings: EndOfTurnSettings) -> SmartTurn | None:
    if not settings.enabled:
        return None
    model = SmartTurn(settings)
    model.warm_up()
    return model


def _warm_tts(tts: Tts) -> Tts:
    tts.warm_up()
    return tts

