"""A live source fed by a network connection: PCM frames become 512-sample chunks, JPEG frames become video."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import cv2
import numpy as np

from agent.runtime.clock import Clock
from agent.config import ServerSettings
from agent.server.jpegsize import jpeg_size
from agent.media.chunks import AudioChunk, VideoFrame
from floor import SAMPLE_RATE

CHUNK = 512
RESYNC_S = 0.25  # audio this far behind the clock means the client paused: restart the stamps at "now"


class SocketSource:
    """The connection handler pushes media in; :meth:`stream` yields it; :meth:`close` ends the stream.

    Audio time comes from the sample count (anchored to the clock at the first
    sample), so chunk stamps do not jitter with network arrival. Queues are
    bounded: audio waits for room (back-pressure onto the socket), the oldest
    video frame is dropped. A camera frame's size is read from its JPEG header
    and checked against the limits before it is decoded.
    """

    live = True
    has_audio = True
    has_video = True

    def __init__(self, clock: Clock, audio_queue: int = 128, video_queue: int = 2, *,
                 max_image_side: int = ServerSettings.max_image_side,
                 max_image_pixels: int = ServerSettings.max_image_pixels) -> None:
        self.clock = clock
        self.max_image_side = max_image_side
        self.max_image_pixels = max_image_pixels
        self._audio: asyncio.Queue[AudioChunk | None] = asyncio.Queue(maxsize=audio_queue)
        self._video: asyncio.Queue[VideoFrame] = asyncio.Queue(maxsize=video_queue)
        self._pending = np.zeros(0, np.int16)
        self._t0: float | None = None
        self._samples = 0
        self._closed = False
        self.frames_dropped = 0

    @property
    def audio_ahead_s(self) -> float:
        """How far the audio received runs ahead of the clock (a client sending faster than real time)."""
        if self._t0 is None:
            return 0.0
        return self._t0 + (self._samples + len(self._pending)) / SAMPLE_RATE - self.clock.now()

    async def feed_audio(self, pcm: np.ndarray) -> None:
        if self._closed:
            return
        now = self.clock.now()
        if self._t0 is None or self._t0 + self._samples / SAMPLE_RATE < now - RESYNC_S:
            self._t0 = now - len(self._pending) / SAMPLE_RATE
            self._samples = 0
        self._pending = np.concatenate([self._pending, pcm.astype(np.int16, copy=False)])
        while len(self._pending) >= CHUNK:
            chunk = AudioChunk(self._t0 + self._samples / SAMPLE_RATE, self._pending[:CHUNK].copy())
            self._pending = self._pending[CHUNK:]
            self._samples += CHUNK
            await self._audio.put(chunk)

    async def feed_jpeg(self, data: bytes) -> None:
        """Decode off the loop; raises ValueError (one line) when the bytes are not a JPEG within the size limits."""
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        image = await loop.run_in_executor(None, self._decode, data)
        if self._video.full():
            self._video.get_nowait()
            self.frames_dropped += 1
        self._video.put_nowait(VideoFrame(self.clock.now(), image))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._audio.full():
            self._audio.get_nowait()
        self._audio.put_nowait(None)

    async def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        while True:
            while not self._video.empty():
                yield self._video.get_nowait()
            audio = asyncio.ensure_future(self._audio.get())
            video = asyncio.ensure_future(self._video.get())
            try:
                done, _ = await asyncio.wait({audio, video}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for fut in (audio, video):
                    if not fut.done():
                        fut.cancel()
            if video in done and not video.cancelled():
                yield video.result()
            if audio in done and not audio.cancelled():
                chunk = audio.result()
                if chunk is None:
                    return
                yield chunk

    async def aclose(self) -> None:
        self.close()

    def _decode(self, data: bytes) -> np.ndarray:
        # The size comes from the header first: the decoder allocates whatever the header claims, and only
        # JPEG is let through, so no other format's bomb (PNG, TIFF, ...) reaches cv2.imdecode.
        try:
            width, height = jpeg_size(data)
        except ValueError as exc:
            raise ValueError(f"camera frame: {exc}") from None
        if max(width, height) > self.max_image_side or width * height > self.max_image_pixels:
            raise ValueError(f"camera frame is {width}x{height}; the limit is {self.max_image_side} pixels a side "
                             f"and {self.max_image_pixels} pixels in all")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"camera frame of {len(data)} bytes is not a decodable JPEG")
        return image
