"""Replay of a media file through PyAV: audio resampled to 16 kHz mono int16 chunks, video frames passed on."""
from __future__ import annotations

import asyncio
import heapq
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable

import av
import numpy as np

from agent.media import AudioChunk, VideoFrame
from agent.sources import SourceError

logger = logging.getLogger(__name__)

SR = 16000
REORDER_S = 2.0
_END = object()


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    has_audio: bool
    has_video: bool
    duration_s: float | None
    audio_rate: int | None
    audio_channels: int | None


def probe(path: str | Path) -> MediaInfo:
    """Open ``path`` just far enough to know its streams; raises :class:`SourceError` naming the file."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a media file")
    if path.stat().st_size == 0:
        raise SourceError(f"{path}: file is empty")
    try:
        with av.open(str(path)) as container:
            audio = container.streams.audio[0] if container.streams.audio else None
            video = container.streams.video[0] if container.streams.video else None
            duration = container.duration / 1e6 if container.duration else None
            return MediaInfo(path, audio is not None, video is not None, duration,
                             audio.rate if audio else None, audio.channels if audio else None)
    except av.FFmpegError as exc:
        raise SourceError(f"{path}: not a readable media file ({exc.strerror or exc})") from None


class MediaFileSource:
    """Decodes in a thread and hands batches to the loop; never decodes far ahead (bounded queue)."""

    live = False

    def __init__(self, path: str | Path, *, video: bool = True, chunk_samples: int = 512) -> None:
        self.info = probe(path)
        if not self.info.has_audio and not self.info.has_video:
            raise SourceError(f"{self.info.path}: has neither an audio nor a video stream")
        if not self.info.has_audio:
            logger.warning("%s: no audio stream; replaying video only (nothing to hear)", self.info.path)
        self.has_audio = self.info.has_audio
        self.has_video = self.info.has_video and video
        self._chunk = chunk_samples
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=8)
        errors: list[BaseException] = []

        def put(item: object) -> None:
            if not self._stop.is_set():
                asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

        def work() -> None:
            try:
                self._decode(put)
            except BaseException as exc:
                errors.append(exc)
            finally:
                try:
                    put(_END)
                except RuntimeError:  # loop already closed
                    pass

        self._thread = threading.Thread(target=work, name="media-decode", daemon=True)
        self._thread.start()
        # Containers interleave audio and video loosely (an MP4 may put a second of one stream before the
        # other); items are put back in time order, holding at most REORDER_S of media.
        pending: list[tuple[float, int, AudioChunk | VideoFrame]] = []
        latest = {"audio": float("-inf"), "video": float("-inf")}
        active = [k for k, on in (("audio", self.has_audio), ("video", self.has_video)) if on]
        seq = 0
        try:
            while True:
                batch = await queue.get()
                if batch is _END:
                    break
                for item in batch:  # type: ignore[union-attr]
                    kind = "audio" if isinstance(item, AudioChunk) else "video"
                    latest[kind] = max(latest[kind], item.t)
                    heapq.heappush(pending, (item.t, seq, item))
                    seq += 1
                horizon = min(latest[k] for k in active)
                newest = max(latest.values())
                while pending and (pending[0][0] <= horizon or pending[0][0] < newest - REORDER_S):
                    yield heapq.heappop(pending)[2]
            while pending:
                yield heapq.heappop(pending)[2]
        finally:
            self._stop.set()
            while not queue.empty():
                queue.get_nowait()
        if errors:
            raise SourceError(f"{self.info.path}: decoding failed ({errors[0]})")

    def _decode(self, put: Callable[[list[AudioChunk | VideoFrame]], None]) -> None:
        path = str(self.info.path)
        produced = False
        with av.open(path) as container:
            streams = []
            audio_stream = container.streams.audio[0] if self.has_audio else None
            video_stream = container.streams.video[0] if self.has_video else None
            if audio_stream is not None:
                streams.append(audio_stream)
            if video_stream is not None:
                video_stream.thread_type = "AUTO"
                streams.append(video_stream)
            origin = (container.start_time or 0) / 1e6
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SR) if audio_stream else None
            pending = np.zeros(0, dtype=np.int16)
            sent = 0  # audio samples emitted so far
            started = False
            try:
                for frame in container.decode(*streams):
                    if self._stop.is_set():
                        return
                    batch: list[AudioChunk | VideoFrame] = []
                    if isinstance(frame, av.AudioFrame):
                        if not started:
                            # Sample 0 is media time 0: pad when the soundtrack starts late.
                            lead = max(0.0, (frame.time or origin) - origin)
                            pending = np.zeros(int(round(lead * SR)), dtype=np.int16)
                            started = True
                        for out in resampler.resample(frame):  # type: ignore[union-attr]
                            pending = np.concatenate([pending, out.to_ndarray().reshape(-1)])
                        while len(pending) >= self._chunk:
                            batch.append(AudioChunk(sent / SR, pending[: self._chunk].copy()))
                            pending = pending[self._chunk:]
                            sent += self._chunk
                    elif isinstance(frame, av.VideoFrame):
                        t = max(0.0, (frame.time if frame.time is not None else 0.0) - origin)
                        batch.append(VideoFrame(t, frame.to_ndarray(format="bgr24")))
                    if batch:
                        produced = True
                        put(batch)
            except av.FFmpegError as exc:
                if not produced:
                    raise SourceError(f"{path}: cannot decode ({exc.strerror or exc})") from None
                logger.warning("%s: decoding stopped early (%s); keeping what was read", path, exc.strerror or exc)
            if resampler is not None:
                for out in resampler.resample(None):
                    pending = np.concatenate([pending, out.to_ndarray().reshape(-1)])
            tail: list[AudioChunk | VideoFrame] = []
            while len(pending):  # the last partial chunk is padded with silence
                block = np.zeros(self._chunk, dtype=np.int16)
                block[: min(len(pending), self._chunk)] = pending[: self._chunk]
                tail.append(AudioChunk(sent / SR, block))
                pending, sent = pending[self._chunk:], sent + self._chunk
            if tail:
                put(tail)
                produced = True
        if not produced:
            raise SourceError(f"{path}: contains no decodable audio or video frames")

    async def aclose(self) -> None:
        self._stop.set()
