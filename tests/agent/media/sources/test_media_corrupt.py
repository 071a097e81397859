"""Corrupt media: a damaged stretch costs only the media inside it, the timeline keeps its length, and a file with
nothing decodable is one line naming it."""
import asyncio
import logging
from pathlib import Path

import numpy as np
import pytest

from agent.media.chunks import AudioChunk, VideoFrame
from agent.media.sources import SourceError
from agent.media.sources.media_file import MediaFileSource
from agent.demo.synth import write_media

SECONDS = 20.0


def collect(source):
    async def run():
        return [item async for item in source.stream()]
    return asyncio.run(run())


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """The same 20 s of tone with a noisy picture, as MP4 (H.264 + AAC) and Matroska (H.264 + PCM)."""
    folder = tmp_path_factory.mktemp("corrupt")
    rng = np.random.default_rng(0)
    t = np.arange(int(16000 * SECONDS)) / 16000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    face = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)  # noise: a big file, so the damage hits both streams
    return {suffix: write_media(folder / f"clip{suffix}", pcm, face, size=(160, 120)) for suffix in (".mp4", ".mkv")}


def damaged(clip: Path, start: float, length: float) -> Path:
    """A copy of ``clip`` with random bytes over ``length`` of it from ``start`` (fractions of the file size)."""
    data = bytearray(clip.read_bytes())
    a, n = int(len(data) * start), int(len(data) * length)
    data[a:a + n] = np.random.default_rng(1).integers(0, 256, n, dtype=np.uint8).tobytes()
    path = clip.with_name(f"damaged-{start}-{length}{clip.suffix}")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_random_bytes_in_the_middle_cost_only_that_stretch(clips, suffix, caplog):
    path = damaged(clips[suffix], 0.45, 0.05)
    with caplog.at_level(logging.WARNING):
        items = collect(MediaFileSource(path))
    audio = [i for i in items if isinstance(i, AudioChunk)]
    frames = [i for i in items if isinstance(i, VideoFrame)]
    # Every second of sound comes out, the damaged stretch as silence, so what follows keeps its place in time.
    assert sum(len(a.pcm) for a in audio) / 16000 == pytest.approx(SECONDS, abs=0.1)
    assert [a.t for a in audio] == [i * 512 / 16000 for i in range(len(audio))]
    last_second = np.concatenate([a.pcm for a in audio])[-16000:]
    assert np.abs(last_second).max() > 5000                       # the tone after the damage is still there
    assert frames and frames[-1].t > SECONDS - 1.0                 # so are the pictures after it
    if suffix == ".mp4":  # the MP4 index still points into the damage: its packets fail to decode and are counted
        warnings = [r.getMessage() for r in caplog.records if "corrupt packets" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].startswith("skipped ") and str(path) in warnings[0]


def test_a_file_corrupt_from_the_start_to_the_index_is_one_line_naming_it(clips):
    clip = clips[".mp4"]
    data = bytearray(clip.read_bytes())
    index = data.find(b"moov")                                      # the MP4 index survives: the file still opens
    data[64:index - 8] = np.random.default_rng(2).integers(0, 256, index - 72, dtype=np.uint8).tobytes()
    path = clip.with_name("all-damaged.mp4")
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError) as err:
        MediaFileSource(path)                 # when it is opened, before the replay loads anything
    message = str(err.value)
    assert message.startswith(f"{path}: contains no decodable audio or video frames")
    assert "corrupt packets" in message and "\n" not in message and message.count(str(path)) == 1
