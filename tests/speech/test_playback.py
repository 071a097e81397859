"""Playback: the sample queue behind the device callback, and the one-line errors of DevicePlayer."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from speech.playback import DevicePlayer, SampleQueue


def test_queue_reads_in_order_across_chunks_and_pads_with_silence() -> None:
    q = SampleQueue()
    q.put(np.arange(1, 6, dtype=np.int16))
    q.put(np.arange(6, 9, dtype=np.int16))
    assert q.queued == 8
    block, real = q.read(6)
    assert block.tolist() == [1, 2, 3, 4, 5, 6] and real == 6
    block, real = q.read(4)
    assert block.tolist() == [7, 8, 0, 0] and real == 2
    assert q.queued == 0


def test_clear_drops_everything_at_once() -> None:
    q = SampleQueue()
    q.put(np.ones(1000, np.int16))
    q.read(100)
    assert q.clear() == 900
    block, real = q.read(10)
    assert real == 0 and not block.any()


def test_queue_refuses_anything_but_mono_int16() -> None:
    q = SampleQueue()
    with pytest.raises(ValueError, match="int16"):
        q.put(np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="shape"):
        q.put(np.zeros((10, 2), np.int16))


def test_concurrent_writer_and_reader_lose_nothing() -> None:
    q = SampleQueue()
    total = 200 * 160

    def writer() -> None:
        for i in range(200):
            q.put(np.full(160, i % 100 + 1, np.int16))

    thread = threading.Thread(target=writer)
    thread.start()
    got = []
    while sum(len(g) for g in got) < total:
        block, real = q.read(97)
        got.append(block[:real])
    thread.join()
    assert np.concatenate(got).sum() == sum((i % 100 + 1) * 160 for i in range(200))


def test_write_before_open_is_refused() -> None:
    with pytest.raises(RuntimeError, match="before open"):
        DevicePlayer().write(np.zeros(10, np.int16))


class FakePyAudio:
    """The slice of PyAudio's API that opening an output touches, on a machine whose only device is a microphone."""

    paInt16 = 8
    paContinue = 0

    def __init__(self) -> None:
        self.terminated = []

    def PyAudio(self) -> "FakePyAudio.Host":
        return FakePyAudio.Host(self)

    class Host:
        DEVICES = [{"index": 0, "name": "USB microphone", "maxInputChannels": 1, "maxOutputChannels": 0,
                    "defaultSampleRate": 48000.0}]

        def __init__(self, module: "FakePyAudio") -> None:
            self.module = module

        def get_device_count(self) -> int:
            return len(self.DEVICES)

        def get_device_info_by_index(self, index: int) -> dict:
            return dict(self.DEVICES[index])

        def get_default_output_device_info(self) -> dict:
            raise OSError(-9996, "No Default Output Device Available")

        def open(self, **kwargs: object) -> None:
            raise AssertionError("no stream may be opened without an output device")

        def terminate(self) -> None:
            self.module.terminated.append(self)


def test_missing_pyaudio_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyaudio", None)   # what an install without the `live` extra has
    with pytest.raises(RuntimeError, match=r"^live playback needs: pip install 'humansense\[live\]'$"):
        DevicePlayer().open(24000)


def test_no_output_device_is_a_one_line_error_and_releases_portaudio(monkeypatch) -> None:
    fake = FakePyAudio()
    monkeypatch.setitem(sys.modules, "pyaudio", fake)
    with pytest.raises(RuntimeError, match="^no audio output device found$"):
        DevicePlayer().open(24000)
    assert len(fake.terminated) == 1
