"""Media in: a source's audio and video onto the session's bounded queues, paced in real time or by a quiet pipeline.

Audio is never dropped; when the video queue is full its oldest frame goes. In a fast
replay the media clock only moves once the pipeline is idle, so every run of a file has
the same timeline whatever the machine. A file that yields nothing for ``stall_s`` (a
stuck decoder) ends the session (live sources are watched by their own transport).
"""
from __future__ import annotations

import asyncio

from agent.runtime.activity import Activity
from agent.runtime.clock import Clock, MediaClock
from agent.media.chunks import AudioChunk, VideoFrame
from agent.runtime.metrics import Metrics
from agent.media.sources import Source
from agent.runtime.supervisor import SessionFailure


class MediaPump:
    def __init__(self, source: Source, clock: Clock, activity: Activity, metrics: Metrics, *, fast: bool,
                 audio_queue: int, video_queue: int, stall_s: float) -> None:
        self.source = source
        self.clock = clock
        self.activity = activity
        self.metrics = metrics
        self.fast = fast
        self.stall_s = stall_s
        self.audio: asyncio.Queue[AudioChunk | None] = asyncio.Queue(maxsize=audio_queue)
        self.video: asyncio.Queue[VideoFrame | None] = asyncio.Queue(maxsize=video_queue)
        self.media_end = 0.0
        self._paced = not fast and not source.live

    async def run(self, stop: asyncio.Event) -> None:
        """Feed until the source ends or ``stop`` is set; then each queue gets its end marker (None)."""
        stream = self.source.stream()
        try:
            while True:
                try:
                    async with asyncio.timeout(None if self.source.live else self.stall_s):
                        item = await anext(stream)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise SessionFailure(f"the media source yielded nothing for {self.stall_s:g} s "
                                         "(session.source_stall_s)") from None
                if stop.is_set():
                    break
                if isinstance(item, AudioChunk):
                    await self._audio(item)
                else:
                    await self._video(item)
                if self.fast:
                    await self.activity.idle()
                    assert isinstance(self.clock, MediaClock)
                    self.clock.advance(self.media_end)
        finally:
            await stream.aclose()
        await self.audio.put(None)
        await self.video.put(None)

    async def _audio(self, chunk: AudioChunk) -> None:
        end = chunk.t + chunk.duration
        if self._paced:
            await self.clock.sleep_until(end)
        self.activity.hold()
        await self.audio.put(chunk)
        self.media_end = max(self.media_end, end)

    async def _video(self, frame: VideoFrame) -> None:
        if self._paced:
            await self.clock.sleep_until(frame.t)
        if self.video.full():  # stale frames go first, never audio
            dropped = self.video.get_nowait()
            if dropped is not None:
                self.activity.release()
            self.metrics.count("video_frames_dropped")
        self.activity.hold()
        self.video.put_nowait(frame)
        self.media_end = max(self.media_end, frame.t)
