"""Media preparation: the right frames (by seeking), JPEG at the published size, 16 kHz audio, and the disk cache."""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.humansense.cache import MediaCache, cache_key
from benchmarks.humansense.media import MediaError, prepare
from benchmarks.humansense.sampling import frame_count, frame_indices, sampling_rate

from tests.benchmarks.humansense.hs_data import write_video


def _gray(jpeg: bytes) -> float:
    return float(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE).mean())


def test_the_sampled_frames_are_the_ones_at_the_published_indices(tmp_path: Path) -> None:
    # 20 s at 12 fps, a keyframe every 25 frames and B-frames; frame i is painted 8*i % 256 gray.
    path = tmp_path / "marks.mp4"
    write_video(path, 240, 12, (64, 48), None, gop=25, index_marks=True)
    media = prepare(path, 240, 12, audio=False)
    want = frame_indices(240, frame_count(240, 12, sampling_rate(240, 12)))
    assert len(media.frames) == len(want) == 20
    for jpeg, index in zip(media.frames, want):
        assert abs(_gray(jpeg) - (8 * index) % 256) < 6, index
    assert media.frame_times[1] == pytest.approx(want[1] / 12, abs=1e-3)


def test_video_with_soundtrack(minidata) -> None:
    media = prepare(minidata.root / "data/videos/talk.mp4", 36, 12, audio=True)
    assert media.kind == "video" and len(media.frames) == 4
    assert all(f.startswith(b"\xff\xd8") for f in media.frames)
    assert (media.height, media.width) == (280, 392)   # the published resize scales small frames up to its minimum
    assert media.audio is not None and media.audio.dtype == np.int16
    assert abs(len(media.audio) - len(minidata.speech)) < 16000 * 0.2
    assert prepare(minidata.root / "data/videos/talk.mp4", 36, 12, audio=False).audio is None


@pytest.mark.parametrize("name", ["call.wav", "chat.mp3"])
def test_audio_only_files(minidata, name: str) -> None:
    media = prepare(minidata.root / "data/audios" / name, None, None, audio=True)
    assert media.kind == "audio" and media.frames == ()
    assert abs(len(media.audio) - len(minidata.speech)) < 16000 * 0.2


def test_unreadable_media_raise_media_error(minidata) -> None:
    with pytest.raises(MediaError, match="corrupt.mp4"):
        prepare(minidata.root / "data/videos/corrupt.mp4", 36, 12, audio=False)
    with pytest.raises(MediaError, match="gone.mp4: media file not found"):
        prepare(minidata.root / "data/videos/gone.mp4", 36, 12, audio=False)


def test_cache_returns_the_same_media_without_decoding(minidata, tmp_path: Path) -> None:
    path = minidata.root / "data/videos/talk.mp4"
    cache = MediaCache(tmp_path / "cache")
    key = cache_key(path, 36, 12, True)
    assert cache.get(key) is None
    fresh = prepare(path, 36, 12, audio=True)
    cache.put(key, fresh)
    t = time.perf_counter()
    again = cache.get(cache_key(path, 36, 12, True))
    assert time.perf_counter() - t < 0.2
    assert again.frames == fresh.frames and np.array_equal(again.audio, fresh.audio)
    assert again.frame_times == fresh.frame_times and (again.width, again.height) == (fresh.width, fresh.height)
    assert cache_key(path, 36, 12, False) != key and cache_key(path, 72, 12, True) != key


def test_streams_without_timestamps_are_decoded_in_order(tmp_path: Path) -> None:
    import av

    write_video(tmp_path / "marks.mp4", 120, 12, (64, 48), None, gop=25, index_marks=True)
    with av.open(str(tmp_path / "marks.mp4")) as src, av.open(str(tmp_path / "marks.h264"), "w", format="h264") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.size:
                packet.stream = out
                dst.mux(packet)
    media = prepare(tmp_path / "marks.h264", 120, 12, audio=False)   # a raw H.264 stream has no timestamps
    want = frame_indices(120, len(media.frames))
    assert len(media.frames) >= 4
    for jpeg, index in zip(media.frames, want):
        assert abs(_gray(jpeg) - (8 * index) % 256) < 6, index
