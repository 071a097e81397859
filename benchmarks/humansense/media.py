"""Decoding an item's media: the sampled frames as JPEG (seeking, never decoding everything) and the 16 kHz soundtrack."""
from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
from av.stream import Disposition
import numpy as np

from benchmarks.humansense.sampling import frame_count, frame_indices, resized, sampling_rate
from floor import SAMPLE_RATE

logger = logging.getLogger(__name__)

JPEG_QUALITY = 90


class MediaError(RuntimeError):
    """The item's media file is missing or cannot be decoded."""


@dataclass(frozen=True)
class Prepared:
    """What the model is given for one item: JPEG frames (none for audio-only media) and optional 16 kHz audio."""
    kind: str
    frames: tuple[bytes, ...] = field(default=(), repr=False)
    frame_times: tuple[float, ...] = ()
    width: int = 0
    height: int = 0
    audio: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Probe:
    has_video: bool
    has_audio: bool


def _video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The first real video stream; cover art in audio files (an attached picture) does not count."""
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    return None


def probe(path: Path) -> Probe:
    """Which streams the file has; audio-only items are recognised by having no video stream."""
    if not path.is_file():
        raise MediaError(f"{path}: media file not found")
    try:
        with av.open(str(path)) as container:
            return Probe(has_video=_video_stream(container) is not None, has_audio=bool(container.streams.audio))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"{path}: cannot be read as media ({exc})") from None


def read_audio(path: Path) -> np.ndarray:
    """The first audio stream as 16 kHz mono int16 (empty when the file has no sound)."""
    pieces: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return np.zeros(0, dtype=np.int16)
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: audio cannot be decoded ({exc})") from None
    return np.concatenate(pieces).astype(np.int16, copy=False) if pieces else np.zeros(0, dtype=np.int16)


def _encode(frame: av.VideoFrame, height: int, width: int) -> bytes:
    image = frame.reformat(width=width, height=height, format="bgr24").to_ndarray()
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise MediaError("JPEG encoding failed")
    return buf.tobytes()


def _decode_at(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
               packets: list[av.Packet], wanted: list[int], size: tuple[int, int]) -> dict[int, bytes]:
    """JPEGs of the frames whose pts are in ``wanted``, decoding from each target's keyframe forward.

    The demuxed packets are the keyframe index: a target whose keyframe lies beyond
    the decoder's position is reached by restarting at that keyframe (the seek);
    otherwise decoding just goes on. Frames no one references are skipped unless wanted.
    """
    ctx = stream.codec_context
    keys = [i for i, p in enumerate(packets) if p.is_keyframe] or [0]
    position = {p.pts: i for i, p in enumerate(packets)}
    wanted_set = set(wanted)
    got: dict[int, bytes] = {}
    nxt = 0
    last: av.VideoFrame | None = None
    for target in wanted:
        if target in got:
            continue
        at = position[target]
        key = keys[max(0, bisect.bisect_right(keys, at) - 1)]
        if key > nxt or at < nxt - 16:
            ctx.flush_buffers()
            nxt = key
        while target not in got and nxt <= len(packets):
            packet = packets[nxt] if nxt < len(packets) else None
            nxt += 1
            ctx.skip_frame = "DEFAULT" if packet is None or packet.pts in wanted_set else "NONREF"
            for frame in ctx.decode(packet):
                last = frame
                if frame.pts in wanted_set and frame.pts not in got:
                    got[frame.pts] = _encode(frame, *size)
        if target not in got and last is not None:
            got[target] = _encode(last, *size)
    return got


def _decode_in_order(path: Path, indices: list[int], size: tuple[int, int]) -> list[bytes]:
    """For streams without timestamps (some raw or AVI files): decode in order and keep the frames at ``indices``."""
    wanted = set(indices)
    got: list[bytes] = []
    last: av.VideoFrame | None = None
    with av.open(str(path)) as container:
        stream = _video_stream(container)
        if stream is None:
            raise MediaError(f"{path}: no video stream")
        for i, frame in enumerate(container.decode(stream)):
            last = frame
            if i in wanted:
                got.append(_encode(frame, *size))
    while last is not None and len(got) < len(indices):
        got.append(_encode(last, *size))
    return got


def read_frames(path: Path, full_frame_number: float | None, fps: float | None) -> Prepared:
    """The frames the published rule samples from a video, JPEG-encoded at the published size."""
    try:
        with av.open(str(path)) as container:
            stream = _video_stream(container)
            if stream is None:
                raise MediaError(f"{path}: no video stream")
            stream.thread_type = "SLICE"
            packets = [p for p in container.demux(stream) if p.size > 0]
            if not packets:
                raise MediaError(f"{path}: the video stream has no frames")
            total = len(packets)
            video_fps = float(stream.average_rate or stream.guessed_rate or fps or 25)
            n = float(full_frame_number or total)
            rate = sampling_rate(n, fps or video_fps)
            indices = frame_indices(total, frame_count(total, video_fps, rate))
            height, width = resized(stream.codec_context.height, stream.codec_context.width)
            tb = float(stream.time_base or 0)
            if any(p.pts is None for p in packets) or not tb:
                frames = _decode_in_order(path, indices, (height, width))
                return Prepared(kind="video", frames=tuple(frames), frame_times=tuple(round(i / video_fps, 4) for i in indices),
                                width=width, height=height)
            pts_sorted = sorted(p.pts for p in packets)
            wanted = [pts_sorted[i] for i in indices]
            got = _decode_at(container, stream, packets, wanted, (height, width))
            logger.debug("%s: %d of %d frames at %.3g fps, %dx%d", path, len(wanted), total, rate, width, height)
            start = pts_sorted[0]
            return Prepared(kind="video", frames=tuple(got[p] for p in wanted),
                            frame_times=tuple(round((p - start) * tb, 4) for p in wanted), width=width, height=height)
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: video cannot be decoded ({exc})") from None


def media_kind(path: Path) -> str:
    """The media's kind, "video" or "audio" (no video stream), decoding nothing: for a model given none of it."""
    return _kind(path, probe(path))


def _kind(path: Path, info: Probe) -> str:
    if info.has_video:
        return "video"
    if not info.has_audio:
        raise MediaError(f"{path}: has neither a video nor an audio stream")
    return "audio"


def prepare(path: Path, full_frame_number: float | None, fps: float | None, audio: bool) -> Prepared:
    """Frames and (when ``audio``, or always for audio-only media) the soundtrack of one item's media file."""
    info = probe(path)
    if _kind(path, info) == "audio":
        return Prepared(kind="audio", audio=read_audio(path) if audio else None)
    video = read_frames(path, full_frame_number, fps)
    if not audio:
        return video
    return Prepared(kind="video", frames=video.frames, frame_times=video.frame_times, width=video.width,
                    height=video.height, audio=read_audio(path) if info.has_audio else np.zeros(0, dtype=np.int16))
