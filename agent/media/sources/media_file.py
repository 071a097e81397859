"""Replay of a media file through PyAV: audio resampled to 16 kHz mono int16 chunks, video frames passed on; a corrupt
packet is skipped (its stretch of sound becomes silence), not the end of the replay."""
from __future__ import annotations

import asyncio
import heapq
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import av
import numpy as np

from agent.media.chunks import AudioChunk, VideoFrame
from agent.media.sources import SourceError
from floor import SAMPLE_RATE

logger = logging.getLogger(__name__)

REORDER_S = 2.0
GAP_TOLERANCE_S = 0.1
"""A hole in the audio timestamps shorter than this is jitter, not missing sound: it is not filled."""
MAX_DEMUX_ERRORS = 32
"""Consecutive container read errors after which the rest of the file is given up as unreadable."""
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
        self._check_decodable()
        self._chunk = chunk_samples
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _check_decodable(self) -> None:
        """Decode up to the first frame now, so a file with nothing decodable fails before anything is loaded."""
        path = self.info.path
        try:
            with av.open(str(path)) as container:
                streams = [*(container.streams.audio[:1] if self.has_audio else ()),
                           *(container.streams.video[:1] if self.has_video else ())]
                frames = _Frames(container, streams)
                if next(iter(frames), None) is None:
                    raise _nothing_decodable(path, frames.skipped)
        except av.FFmpegError as exc:
            raise SourceError(f"{path}: cannot decode ({exc.strerror or exc})") from None

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
            if isinstance(errors[0], SourceError):  # already one line naming the file
                raise SourceError(str(errors[0])) from None
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
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE) if audio_stream else None
            pending = np.zeros(0, dtype=np.int16)
            sent = 0  # audio samples emitted so far
            started = False
            frames = _Frames(container, streams)
            try:
                for frame in frames:
                    if self._stop.is_set():
                        return
                    batch: list[AudioChunk | VideoFrame] = []
                    if isinstance(frame, av.AudioFrame):
                        # Sample n is media time n / SAMPLE_RATE: silence fills a late start and any hole the stream's
                        # timestamps show (skipped corrupt packets), so sound stays in step with the picture.
                        if frame.time is not None:
                            gap = int(round((frame.time - origin) * SAMPLE_RATE)) - sent - len(pending)
                            if gap > (GAP_TOLERANCE_S * SAMPLE_RATE if started else 0):
                                pending = np.concatenate([pending, np.zeros(gap, dtype=np.int16)])
                        started = True
                        for out in resampler.resample(frame):  # type: ignore[union-attr]
                            pending = np.concatenate([pending, out.to_ndarray().reshape(-1)])
                        while len(pending) >= self._chunk:
                            batch.append(AudioChunk(sent / SAMPLE_RATE, pending[: self._chunk].copy()))
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
            if frames.skipped:
                logger.warning("skipped %d corrupt packets in %s", frames.skipped, path)
            if resampler is not None:
                for out in resampler.resample(None):
                    pending = np.concatenate([pending, out.to_ndarray().reshape(-1)])
            tail: list[AudioChunk | VideoFrame] = []
            while len(pending):  # the last partial chunk is padded with silence
                block = np.zeros(self._chunk, dtype=np.int16)
                block[: min(len(pending), self._chunk)] = pending[: self._chunk]
                tail.append(AudioChunk(sent / SAMPLE_RATE, block))
                pending, sent = pending[self._chunk:], sent + self._chunk
            if tail:
                put(tail)
                produced = True
        if not produced:
            raise _nothing_decodable(path, frames.skipped)

    async def aclose(self) -> None:
        self._stop.set()


def _nothing_decodable(path: str | Path, skipped: int) -> SourceError:
    detail = f" ({skipped} corrupt packets)" if skipped else ""
    return SourceError(f"{path}: contains no decodable audio or video frames{detail}")


class _Frames:
    """Decoded frames of ``streams``, packet by packet: a packet that fails to decode is counted in ``skipped`` and
    passed over, as is a stretch the container cannot read, so one corrupt region costs only the media inside it."""

    def __init__(self, container: av.container.InputContainer, streams: list[av.stream.Stream]) -> None:
        self._container = container
        self._streams = streams
        self.skipped = 0

    def __iter__(self) -> Iterator[av.AudioFrame | av.VideoFrame]:
        errors = 0
        packets = self._container.demux(*self._streams)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError:
                # The demuxer resynchronises on the next read; a new generator goes on from where it stands.
                errors += 1
                self.skipped += 1
                if errors >= MAX_DEMUX_ERRORS:
                    raise
                packets = self._container.demux(*self._streams)
                continue
            errors = 0
            try:
                decoded = packet.decode()
            except av.FFmpegError:
                self.skipped += 1
                continue
            yield from decoded
