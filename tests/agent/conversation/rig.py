"""The answer machinery on a virtual clock: hearing, answers and responses as a session wires them, without a session.

Real parts: the config, the cue brain, the lanes, the rolling context and fusion, the listener's
audio ring, and a :class:`MemoryPlayer` that records what would be heard. Doubles only at the
model boundaries: a recognizer that says a given line and a TTS that plays a tone per word
(both implement the project's protocols). Time moves only when a test advances the clock.
"""
from __future__ import annotations

import asyncio
import functools
import time
from typing import Any, Awaitable, Callable, TypeVar

import numpy as np

from agent.config import load_config
from agent.conversation.answers import Answers
from agent.conversation.context import RollingContext
from agent.conversation.hearing import Hearing
from agent.conversation.listener import Listener
from agent.conversation.services import Services
from agent.media.sinks.memory import MemoryPlayer
from agent.runtime.activity import Activity
from agent.runtime.clock import MediaClock
from agent.runtime.events import EventKind
from agent.runtime.lanes import Models, make_lanes
from agent.runtime.metrics import Metrics
from agent.runtime.supervisor import Supervisor
from dialogue.cue_brain import CueBrain
from dialogue.memory import DialogueMemory
from floor import SAMPLE_RATE
from perception.fusion import EmotionFusion
from perception.types import Transcript, Word
from perception.vad import SileroNet
from speech.types import Style

SECONDS_PER_WORD = 0.25
"""How long the tone TTS speaks each word: a sentence of n words lasts n/4 s."""
T = TypeVar("T")
SETTINGS = ["policy.first_sentence_deadline_ms=0", "tts.trim_silence=false", "asr.incremental=false"]


class LineTranscriber:
    """A recognizer that hears ``line`` in any audio, its words spread evenly over it; fails while ``failing``."""

    name = "line"
    load_seconds = 0.0

    def __init__(self, line: str, probability: float = 0.9) -> None:
        self.line, self.probability = line, probability
        self.failing = False
        self.calls: list[tuple[float, float]] = []  # (t0, seconds of audio) of each call

    def transcribe(self, pcm: np.ndarray, t0: float = 0.0, final: bool = True) -> Transcript:
        self.calls.append((t0, len(pcm) / SAMPLE_RATE))
        if self.failing:
            raise RuntimeError("line: the recognizer is down")
        words = self.line.split()
        step = len(pcm) / SAMPLE_RATE / max(len(words), 1)
        said = tuple(Word(w, t0 + i * step, t0 + (i + 1) * step, self.probability) for i, w in enumerate(words))
        return Transcript(self.line, t0, t0 + len(pcm) / SAMPLE_RATE, said)

    def warm_up(self) -> None:
        return None


class ToneTts:
    """A TTS that says each word as a quarter second of tone; the calls numbered in ``failing`` raise (1 = first)."""

    name = "tone"
    sample_rate = SAMPLE_RATE

    def __init__(self) -> None:
        self.failing: set[int] | None = set()  # None: every call fails
        self.said: list[str] = []

    def synthesize(self, sentence: str, style: Style) -> np.ndarray:
        self.said.append(sentence)
        if self.failing is None or len(self.said) in self.failing:
            raise RuntimeError(f"tone: cannot say {sentence!r}")
        n = int(SECONDS_PER_WORD * SAMPLE_RATE * len(sentence.split()))
        return (np.sin(np.arange(n) * 2 * np.pi * 220 / SAMPLE_RATE) * 8000).astype(np.int16)

    def warm_up(self) -> None:
        return None


@functools.cache
def _vad_net() -> SileroNet:
    """The listener's VAD network, loaded once per test process (the listener is built with it; these tests never
    run it)."""
    return SileroNet.for_settings(load_config(None).vad)


class Rig:
    def __init__(self, line: str = "I had a really rough day at work today.", settings: tuple[str, ...] = ()) -> None:
        config = self.config = load_config(None, [*SETTINGS, *settings])
        self.clock = MediaClock()
        self.player = MemoryPlayer(self.clock)
        self.events: list[tuple[EventKind, Any, float]] = []
        self.facts: list[object] = []
        self.cues: list[object] = []
        self.hooks: dict[EventKind, Callable[[Any], None]] = {}
        self.metrics = Metrics()
        self.supervisor = Supervisor(self.publish, self.metrics.count)
        self.transcriber = LineTranscriber(line)
        self.tts = ToneTts()
        self.models = Models(config=config, vad=_vad_net(), transcriber=self.transcriber,
                             end_of_turn=None, tts=self.tts, brain=CueBrain(config.brain, config.policy),
                             lanes=make_lanes(config))
        self.activity = Activity()
        self.services = Services(config, self.models, self.clock, self.metrics, self.activity, self.supervisor,
                                 self.publish, self.facts.append)
        self.listener = Listener(config, self.models, self.metrics, self.publish, self.supervisor.degraded)
        context = RollingContext(config.context, DialogueMemory(config.brain.context_tokens, None,
                                                                config.context.history_turns))
        self.hearing = Hearing(self.services, self.listener.audio, context)
        self.answers = Answers(self.services, self.player, self.hearing, self.listener, context,
                               EmotionFusion(config.fusion), self.cues.append)

    def publish(self, kind: EventKind, data: Any = None, t: float | None = None) -> None:
        self.events.append((kind, data, self.clock.now() if t is None else t))
        hook = self.hooks.get(kind)
        if hook is not None:
            hook(data)

    def said(self, start: float, end: float) -> None:
        """The user spoke from ``start`` to ``end`` (noise at speech level); the clock moves to ``end``."""
        rng = np.random.default_rng(int(start * 1000))
        pcm = (rng.standard_normal(int((end - start) * SAMPLE_RATE)) * 3000).astype(np.int16)
        self.listener.audio.append(start, pcm)
        self.clock.advance(end)

    def of(self, kind: EventKind) -> list[Any]:
        return [data for k, data, _ in self.events if k is kind]

    def errors(self) -> list[str]:
        return [data["where"] for data in self.of(EventKind.ERROR)]

    async def until(self, done: Callable[[], bool], what: str = "the condition") -> None:
        """Let tasks and lane threads run (the virtual clock stands still) until ``done()``; fails after 2 s."""
        deadline = time.monotonic() + 2.0
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0)

    async def play_out(self) -> None:
        """Move the clock to the end of each sentence the player is playing, until no answer is open."""
        deadline = time.monotonic() + 2.0
        while self.answers.current is not None and not self.answers.current.done:
            if time.monotonic() > deadline:
                raise AssertionError("timed out playing the answer out")
            if self.player.busy_until > self.clock.now():
                self.clock.advance(self.player.busy_until)
            await asyncio.sleep(0)

    async def close(self) -> None:
        await self.supervisor.close()
        await self.models.aclose()


def run(scenario: Callable[[Rig], Awaitable[T]], **rig: Any) -> T:
    """Run ``scenario`` on a fresh rig in its own event loop; every task it left is cancelled after."""
    async def go() -> T:
        built = Rig(**rig)
        try:
            return await scenario(built)
        finally:
            await built.close()
    return asyncio.run(go())
