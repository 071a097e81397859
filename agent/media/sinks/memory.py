"""A player that keeps in memory what the user would hear: each sentence's words and its span on the timeline."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from agent.media.sinks.players import TimelinePlayer
from agent.runtime.clock import Clock
from floor import SAMPLE_RATE
from speech.types import SpokenAudio


@dataclass(frozen=True)
class Played:
    """One sentence handed to the player: its words and the span of the timeline it filled (cut where it stopped)."""
    text: str
    start: float
    end: float


class MemoryPlayer(TimelinePlayer):
    """The timeline player (a replay's), recording what it plays instead of writing a file: for tests and tools
    that check what was said when. A stop cuts the sentence being played and forgets those not yet begun."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, listener=self._played)
        self.played: list[Played] = []

    def _played(self, start: float, pcm16k: np.ndarray, audio: SpokenAudio) -> None:
        self.played.append(Played(audio.text, start, start + len(pcm16k) / SAMPLE_RATE))

    def stop(self) -> float:
        now = super().stop()
        self.played = [p if p.end <= now else dataclasses.replace(p, end=now) for p in self.played if p.start < now]
        return now
