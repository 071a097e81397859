"""Playback: the sample queue behind the device callback, and the one-line errors of DevicePlayer."""
from __future__ import annotations

import importlib.util
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


@pytest.mark.skipif(importlib.util.find_spec("pyaudio") is not None, reason="pyaudio is installed")
def test_missing_pyaudio_names_the_extra() -> None:
    with pytest.raises(RuntimeError, match=r"^live playback needs: pip install 'humansense\[live\]'$"):
        DevicePlayer().open(24000)


def test_no_output_device_is_a_one_line_error() -> None:
    pyaudio = pytest.importorskip("pyaudio")
    pa = pyaudio.PyAudio()
    has_output = any(pa.get_device_info_by_index(i)["maxOutputChannels"] > 0 for i in range(pa.get_device_count()))
    pa.terminate()
    if has_output:
        pytest.skip("this machine has an audio output device")
    with pytest.raises(RuntimeError, match="^no audio output device found$"):
        DevicePlayer().open(24000)
