"""Live microphone capture through PyAudio (the `live` extra): 16 kHz mono int16 chunks stamped on the wall clock."""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator

import numpy as np

from agent.runtime.clock import Clock
from agent.media.chunks import AudioChunk, VideoFrame
from agent.media.sources import SourceError
from floor import SAMPLE_RATE

logger = logging.getLogger(__name__)


def open_pyaudio():  # type: ignore[no-untyped-def]
    try:
        import pyaudio
    except ImportError:
        raise SourceError("live audio needs PyAudio: pip install 'humansense[live]' (and Debian's portaudio19-dev)") from None
    return pyaudio


class MicrophoneSource:
    live = True
    has_audio = True
    has_video = False

    def __init__(self, clock: Clock, device: str = "", chunk_samples: int = 512) -> None:
        pyaudio = open_pyaudio()
        self._pa = pyaudio.PyAudio()
        index = self._find_device(device)
        self.clock = clock
        self._chunk = chunk_samples
        self._queue: asyncio.Queue[np.ndarray] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stream = None
        self._index = index
        self._format = pyaudio.paInt16
        self._continue = pyaudio.paContinue

    def _find_device(self, device: str) -> int:
        inputs = [i for i in range(self._pa.get_device_count())
                  if self._pa.get_device_info_by_index(i).get("maxInputChannels", 0) > 0]
        if not inputs:
            self._pa.terminate()
            raise SourceError("no audio input device found (no microphone on this machine); use `humansense replay FILE`")
        if not device:
            try:
                return int(self._pa.get_default_input_device_info()["index"])
            except OSError:
                return inputs[0]
        for i in inputs:
            if device == str(i) or device.lower() in str(self._pa.get_device_info_by_index(i)["name"]).lower():
                return i
        self._pa.terminate()
        raise SourceError(f"audio input device {device!r} not found")

    async def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=256)

        def callback(data, frames, info, status):  # type: ignore[no-untyped-def]
            pcm = np.frombuffer(data, dtype=np.int16).copy()
            assert self._loop is not None and self._queue is not None
            self._loop.call_soon_threadsafe(self._offer, pcm)
            return (None, self._continue)

        try:
            self._stream = self._pa.open(format=self._format, channels=1, rate=SAMPLE_RATE, input=True,
                                         input_device_index=self._index, frames_per_buffer=self._chunk,
                                         stream_callback=callback)
        except OSError as exc:
            raise SourceError(f"cannot open the microphone: {exc}") from None
        sent = 0
        while True:
            pcm = await self._queue.get()
            yield AudioChunk(sent / SAMPLE_RATE, pcm)
            sent += len(pcm)

    def _offer(self, pcm: np.ndarray) -> None:
        assert self._queue is not None
        if self._queue.full():
            logger.warning("microphone queue full: the session is not keeping up")
            return
        self._queue.put_nowait(pcm)

    async def aclose(self) -> None:
        if self._stream is not None:
            self._stream.stop_stream()
            self._stream.close()
            self._stream = None
        self._pa.terminate()
