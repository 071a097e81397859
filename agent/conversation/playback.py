"""One answer's sentences on the player: played back to back, cut at a stop with the unheard rest kept, and what was heard."""
from __future__ import annotations

import asyncio
from typing import Any, Coroutine

import numpy as np

from agent.conversation.services import Services
from agent.media.sinks.players import Player
from agent.runtime.events import EventKind
from agent.runtime.supervisor import SessionFailure
from floor import SAMPLE_RATE, error_line
from speech.types import SpokenAudio

Item = tuple[SpokenAudio, np.ndarray]
"""A synthesized sentence and its 16 kHz copy."""
Queued = tuple[Item, str]
"""A sentence to play and where its words came from: the brain's name, "fallback", "acknowledgement", "trouble"."""
ACKNOWLEDGEMENT = "acknowledgement"


class Playback:
    """Sentences are queued as they are synthesized (:meth:`put`, then :meth:`close`) and played one by one."""

    def __init__(self, services: Services, player: Player) -> None:
        self.services = services
        self.player = player
        self.queued = 0  # sentences queued so far
        self.rest: Queued | None = None  # the unheard rest of the sentence a stop cut
        self._queue: asyncio.Queue[Queued | None] = asyncio.Queue()
        self._played: list[tuple[str, float, float, str]] = []  # sentence (heard part), start, duration, source
        self._current: tuple[SpokenAudio, np.ndarray, float] | None = None  # playing now, and since when
        self._playing: asyncio.Future[float] | None = None  # the player's task for the current sentence

    def put(self, item: Item, source: str) -> None:
        self.queued += 1
        self._queue.put_nowait((item, source))

    def close(self) -> None:
        """No more sentences: :meth:`next` answers None once the queue is empty."""
        self._queue.put_nowait(None)

    async def next(self) -> Queued | None:
        return await self._queue.get()

    def next_start(self) -> float:
        """When a sentence handed to the player now would start on the timeline."""
        return max(self.services.clock.now(), self.player.busy_until)

    async def play(self, item: Item, source: str, start: float, emotion: str) -> None:
        audio, pcm16k = item
        duration = len(pcm16k) / SAMPLE_RATE
        self._played.append((audio.text, start, duration, source))
        self.services.publish(EventKind.AGENT_TEXT, {"text": audio.text, "emotion": emotion, "start": start,
                                                     "duration": duration, "source": source}, t=start)
        self._current = (audio, pcm16k, start)
        await self._watch(self.player.play(audio, pcm16k), start + duration, duration)
        self._current = None

    async def _watch(self, playing: Coroutine[Any, Any, float], end: float, duration: float) -> None:
        """Play, on the session timeline's watch: a player that fails or hangs leaves no way to speak (SessionFailure)."""
        s = self.services
        grace = s.config.session.lane_timeout_s
        play = self._playing = asyncio.ensure_future(playing)
        watchdog = asyncio.ensure_future(s.clock.sleep_until(end + grace))
        try:
            await asyncio.wait({play, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._playing = None
            watchdog.cancel()
            if not play.done():
                play.cancel()
        if not play.done() or play.cancelled():
            raise SessionFailure(f"the player hung: a {duration:.1f} s sentence still playing {grace:g} s after its end "
                                 "(session.lane_timeout_s)")
        exc = play.exception()
        if exc is not None:
            raise SessionFailure(f"the player failed: {error_line(exc)}") from exc

    def stop(self) -> float:
        """Stop playback now and keep the unheard rest; returns the timeline time it stopped."""
        stopped = self.player.stop()
        if self._playing is not None:  # a sentence handed to the player but not yet started must never start
            self._playing.cancel()
        current, self._current = self._current, None
        if current is not None:
            audio, pcm16k, start = current
            source = self._played[-1][3]
            heard, rest = split_at(audio, pcm16k, max(0.0, stopped - start))
            self.rest = (rest, source) if rest is not None else None
            self._played[-1] = (heard, start, max(0.0, stopped - start), source)
        return stopped

    def take_rest(self) -> Queued | None:
        rest, self.rest = self.rest, None
        return rest

    def heard(self, stopped_at: float | None) -> list[tuple[str, str]]:
        """Each played sentence's heard words (all of them unless cut at ``stopped_at``) and their source."""
        heard: list[tuple[str, str]] = []
        for text, start, duration, source in self._played:
            if stopped_at is None or stopped_at >= start + duration:
                heard.append((text, source))
            elif stopped_at > start:
                words = text.split()
                heard.append((" ".join(words[:int(len(words) * (stopped_at - start) / max(duration, 1e-6))]), source))
        return [(text, source) for text, source in heard if text]

    def text(self, stopped_at: float | None) -> str:
        return " ".join(text for text, _ in self.heard(stopped_at))

    def parts(self, stopped_at: float | None) -> list[dict[str, str]]:
        """What was heard, by source, consecutive sentences of one source joined (turns.json's ``parts``)."""
        parts: list[dict[str, str]] = []
        for text, source in self.heard(stopped_at):
            if parts and parts[-1]["source"] == source:
                parts[-1]["text"] += " " + text
            else:
                parts.append({"text": text, "source": source})
        return parts


def split_at(audio: SpokenAudio, pcm16k: np.ndarray, offset: float) -> tuple[str, Item | None]:
    """The words heard by ``offset`` seconds into a sentence, and the rest from the word being said then."""
    words = audio.text.split()
    duration = len(pcm16k) / SAMPLE_RATE
    if not words or offset >= duration:
        return audio.text, None
    k = min(len(words) - 1, int(len(words) * offset / max(duration, 1e-6)))
    frac = k / len(words)
    rest = SpokenAudio(" ".join(words[k:]), audio.samples[int(frac * len(audio.samples)):], audio.sample_rate)
    return " ".join(words[:k]), (rest, pcm16k[int(frac * len(pcm16k)):])
