"""Media replay: any container FFmpeg reads, resampled to 16 kHz mono, with clear errors for bad files."""
import asyncio
from fractions import Fraction

import av
import numpy as np
import pytest
import soundfile as sf

from agent.media.chunks import AudioChunk, VideoFrame
from agent.media.sources import SourceError
from agent.media.sources.media_file import MediaFileSource


def collect(source):
    async def run():
        return [item async for item in source.stream()]
    return asyncio.run(run())


def tone(sr, seconds, channels=1, f=440.0):
    t = np.arange(int(sr * seconds)) / sr
    x = (0.3 * np.sin(2 * np.pi * f * t) * 32767).astype(np.int16)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize("sr, channels", [(8000, 1), (48000, 2), (16000, 1), (44100, 2)])
def test_any_rate_and_layout_becomes_16k_mono_chunks(tmp_path, sr, channels):
    path = tmp_path / f"a{sr}.wav"
    sf.write(path, tone(sr, 2.0, channels), sr)
    items = collect(MediaFileSource(path))
    assert all(isinstance(i, AudioChunk) for i in items)
    assert all(len(i.pcm) == 512 and i.pcm.dtype == np.int16 for i in items)
    total = sum(len(i.pcm) for i in items) / 16000
    assert 1.95 <= total <= 2.1
    assert [round(i.t, 4) for i in items[:3]] == [0.0, 0.032, 0.064]
    pcm = np.concatenate([i.pcm for i in items])
    spectrum = np.abs(np.fft.rfft(pcm[:16000].astype(float)))
    assert abs(np.argmax(spectrum) * 16000 / 16000 - 440) < 3  # still a 440 Hz tone


def write_video(path, seconds=1.0, fps=10, audio=True):
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=fps)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        if audio:
            aus = out.add_stream("aac", rate=16000, layout="mono")
        for i in range(int(seconds * fps)):
            img = np.full((48, 64, 3), i * 20 % 255, np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        if audio:
            pcm = tone(16000, seconds)
            for i in range(0, len(pcm), 1024):
                frame = av.AudioFrame.from_ndarray(pcm[i:i + 1024].reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = 16000, i, Fraction(1, 16000)
                for p in aus.encode(frame):
                    out.mux(p)
            for p in aus.encode():
                out.mux(p)


def test_video_with_sound_yields_frames_and_audio_in_time_order(tmp_path):
    path = tmp_path / "v.mp4"
    write_video(path)
    items = collect(MediaFileSource(path))
    frames = [i for i in items if isinstance(i, VideoFrame)]
    audio = [i for i in items if isinstance(i, AudioChunk)]
    assert len(frames) == 10 and frames[0].image.shape == (48, 64, 3)
    assert [f.t for f in frames] == sorted(f.t for f in frames)
    assert sum(len(a.pcm) for a in audio) / 16000 == pytest.approx(1.0, abs=0.1)


def test_video_only_file_warns_and_replays_what_it_can(tmp_path, caplog):
    path = tmp_path / "silent.mp4"
    write_video(path, audio=False)
    source = MediaFileSource(path)
    assert "no audio stream" in caplog.text
    assert not source.has_audio and source.has_video
    assert len([i for i in collect(source) if isinstance(i, VideoFrame)]) == 10


def test_missing_empty_and_garbage_files_fail_with_one_line_naming_the_file(tmp_path):
    with pytest.raises(SourceError, match="nope.wav: no such file"):
        MediaFileSource(tmp_path / "nope.wav")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty.mp4: file is empty"):
        MediaFileSource(empty)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not media at all" * 100)
    with pytest.raises(SourceError, match="junk.mp3: not a readable media file") as err:
        MediaFileSource(junk)
    assert "\n" not in str(err.value)
    with pytest.raises(SourceError, match="is a directory"):
        MediaFileSource(tmp_path)


def test_loosely_interleaved_containers_come_out_in_time_order(tmp_path):
    path = tmp_path / "v.mp4"
    write_video(path, seconds=3.0)
    items = collect(MediaFileSource(path))
    times = [i.t for i in items]
    assert times == sorted(times)
    assert {type(i) for i in items} == {AudioChunk, VideoFrame}
