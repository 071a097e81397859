"""Live playback to a sound device through PyAudio (optional extra `live`), with instant stop for barge-in."""
from __future__ import annotations

import collections
import logging
import threading
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_INSTALL_HINT = "live playback needs: pip install 'humansense[live]'"


class SampleQueue:
    """Thread-safe FIFO of int16 samples: the writer appends whole arrays, the audio callback reads fixed blocks."""

    def __init__(self) -> None:
        self._chunks: collections.deque[np.ndarray] = collections.deque()
        self._lock = threading.Lock()
        self._queued = 0

    @property
    def queued(self) -> int:
        """Samples written but not yet read."""
        return self._queued

    def put(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples)
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise ValueError(f"playback expects 1-D int16 samples, got {samples.dtype} with shape {samples.shape}")
        if len(samples) == 0:
            return
        with self._lock:
            self._chunks.append(samples.copy())
            self._queued += len(samples)

    def read(self, n: int) -> tuple[np.ndarray, int]:
        """``n`` samples (zero-padded when the queue runs dry) and how many of them were real audio."""
        out = np.zeros(n, np.int16)
        filled = 0
        with self._lock:
            while filled < n and self._chunks:
                head = self._chunks[0]
                take = min(n - filled, len(head))
                out[filled: filled + take] = head[:take]
                filled += take
                if take == len(head):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = head[take:]
            self._queued -= filled
        return out, filled

    def clear(self) -> int:
        """Drop everything queued; returns how many samples were dropped."""
        with self._lock:
            dropped = self._queued
            self._chunks.clear()
            self._queued = 0
        return dropped


class DevicePlayer:
    """Plays int16 mono audio on an output device; ``write`` only queues, a PortAudio callback drains the queue.

    output_device: '' for the system default, a device index, or part of a device name.
    """

    def __init__(self, output_device: str = "", block: int = 480) -> None:
        self.output_device = output_device
        self.block = block
        self.sample_rate = 0
        self.played_samples = 0
        self._queue = SampleQueue()
        self._pa: Any = None
        self._stream: Any = None
        self._continue = 0

    def open(self, sample_rate: int) -> None:
        """Start the output stream; raises a one-line RuntimeError without pyaudio or without an output device."""
        try:
            import pyaudio
        except ImportError:
            raise RuntimeError(_INSTALL_HINT) from None
        if self._stream is not None:
            raise RuntimeError("DevicePlayer is already open; close it first")
        self._continue = pyaudio.paContinue
        pa = pyaudio.PyAudio()
        index: int | None = None
        try:
            index = _find_output(pa, self.output_device)
            self._stream = pa.open(format=pyaudio.paInt16, channels=1, rate=sample_rate, output=True,
                                   output_device_index=index, frames_per_buffer=self.block,
                                   stream_callback=self._callback)
        except OSError as e:
            pa.terminate()
            raise RuntimeError(f"cannot open output device {index} at {sample_rate} Hz ({e})") from None
        except BaseException:
            pa.terminate()
            raise
        self._pa = pa
        self.sample_rate = sample_rate
        logger.info("playing on output device %s at %d Hz", index, sample_rate)

    def write(self, samples: np.ndarray) -> None:
        """Queue int16 mono samples at the opened rate; returns at once."""
        if self._stream is None:
            raise RuntimeError("DevicePlayer.write before open")
        self._queue.put(samples)

    def stop(self) -> int:
        """Barge-in: drop everything queued at once; returns how many samples were never played."""
        return self._queue.clear()

    def close(self) -> None:
        self._queue.clear()
        if self._stream is not None:
            self._stream.stop_stream()
            self._stream.close()
            self._stream = None
        if self._pa is not None:
            self._pa.terminate()
            self._pa = None

    def _callback(self, in_data: bytes | None, frame_count: int, time_info: Any, status: int) -> tuple[bytes, int]:
        block, real = self._queue.read(frame_count)
        self.played_samples += real
        return block.tobytes(), self._continue


def _find_output(pa: Any, wanted: str) -> int:
    """Index of the output device named by ``wanted`` ('' = default, an index, or a substring of the name)."""
    outputs = {i: pa.get_device_info_by_index(i) for i in range(pa.get_device_count())}
    outputs = {i: info for i, info in outputs.items() if int(info.get("maxOutputChannels", 0)) > 0}
    if not outputs:
        raise RuntimeError("no audio output device found")
    if not wanted:
        try:
            return int(pa.get_default_output_device_info()["index"])
        except (IOError, OSError):
            return min(outputs)
    if wanted.isdigit():
        if int(wanted) not in outputs:
            raise ValueError(f"output_device {wanted!r} is not an output device; have: {_names(outputs)}")
        return int(wanted)
    for i, info in outputs.items():
        if wanted.lower() in str(info.get("name", "")).lower():
            return i
    raise ValueError(f"no output device matches {wanted!r}; have: {_names(outputs)}")


def _names(outputs: dict[int, dict[str, Any]]) -> str:
    return ", ".join(f"{i}: {info.get('name', '?')}" for i, info in outputs.items())
