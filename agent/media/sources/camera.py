"""Live camera frames through OpenCV (index, file path or URL), merged with a live audio source."""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import AsyncIterator

import cv2

from agent.runtime.clock import Clock
from agent.media.chunks import AudioChunk, VideoFrame
from agent.media.sources import Source, SourceError

logger = logging.getLogger(__name__)


class CameraSource:
    """Reads frames in a thread at up to ``fps``; a lost camera ends the video, never the session."""

    live = True
    has_audio = False
    has_video = True

    def __init__(self, clock: Clock, camera: str, fps: float = 10.0) -> None:
        target: int | str = int(camera) if camera.isdigit() else camera
        self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            raise SourceError(f"camera {camera!r} could not be opened (no such device, file or URL)")
        self.clock = clock
        self.name = camera
        self._period = 1.0 / fps
        self._stop = threading.Event()

    async def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            ok, frame = await loop.run_in_executor(None, self._cap.read)
            if not ok or frame is None:
                logger.warning("camera %r lost; going on with audio only", self.name)
                return
            yield VideoFrame(self.clock.now(), frame)
            await asyncio.sleep(self._period)

    async def aclose(self) -> None:
        self._stop.set()
        self._cap.release()


class MergedSource:
    """Interleaves live sources as their items arrive (audio from one, video from another)."""

    live = True

    def __init__(self, *sources: Source) -> None:
        self.sources = sources
        self.has_audio = any(s.has_audio for s in sources)
        self.has_video = any(s.has_video for s in sources)

    async def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        queue: asyncio.Queue[AudioChunk | VideoFrame | None] = asyncio.Queue(maxsize=64)

        async def forward(source: Source) -> None:
            try:
                async for item in source.stream():
                    await queue.put(item)
            finally:
                await queue.put(None)

        tasks = [asyncio.create_task(forward(s)) for s in self.sources]
        audio_done = False
        try:
            while not audio_done:
                item = await queue.get()
                if item is None:
                    audio_done = all(t.done() for t, s in zip(tasks, self.sources) if s.has_audio)
                    continue
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for source in self.sources:
            await source.aclose()
