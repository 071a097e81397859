"""Agent audio players: on the replay timeline (into the recording) or to a live sound device."""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from agent.runtime.clock import Clock
from agent.media.sinks.recording import ConversationRecorder
from floor import SAMPLE_RATE
from speech.types import SpokenAudio


class Player(Protocol):
    """Plays sentences back to back; ``play`` returns when the sentence has been heard, ``stop`` cuts everything."""

    async def play(self, audio: SpokenAudio, pcm16k: np.ndarray) -> float:
        """Returns the timeline time the sentence started."""

    def stop(self) -> float:
        """Stops at once; returns the timeline time playback stopped."""

    @property
    def busy_until(self) -> float:
        ...


class TimelinePlayer:
    """Replay: "plays" on the session timeline; the recording's agent channel holds exactly what was heard.

    ``listener`` also receives each sentence's 16 kHz samples and start time (e.g. a WebSocket downstream).
    """

    def __init__(self, clock: Clock, recorder: ConversationRecorder | None = None,
                 listener: Callable[[float, np.ndarray, SpokenAudio], None] | None = None) -> None:
        self.clock = clock
        self.recorder = recorder
        self.listener = listener
        self._end = 0.0

    @property
    def busy_until(self) -> float:
        return self._end

    async def play(self, audio: SpokenAudio, pcm16k: np.ndarray) -> float:
        start = max(self.clock.now(), self._end)
        end = start + len(pcm16k) / SAMPLE_RATE
        self._end = end
        if self.recorder is not None:
            self.recorder.agent(start, pcm16k)
        if self.listener is not None:
            self.listener(start, pcm16k, audio)
        await self.clock.sleep_until(end)
        return start

    def stop(self) -> float:
        now = self.clock.now()
        if self._end > now and self.recorder is not None:
            self.recorder.cut_agent(now, self._end)
        self._end = min(self._end, now)
        return now


class DevicePlayer(TimelinePlayer):
    """Live: the same timeline bookkeeping, and each sentence also goes to the sound card (``speech.playback``)."""

    def __init__(self, clock: Clock, device: str = "", recorder: ConversationRecorder | None = None) -> None:
        from speech.playback import DevicePlayer as _Device  # the `live` extra; fails with a clear message

        super().__init__(clock, recorder, listener=self._to_device)
        self._device = _Device(device)
        self._device.open(SAMPLE_RATE)

    def _to_device(self, start: float, pcm16k: np.ndarray, audio: SpokenAudio) -> None:
        self._device.write(pcm16k)

    def stop(self) -> float:
        self._device.stop()  # drop what is queued at once
        return super().stop()

    def close(self) -> None:
        self._device.close()
