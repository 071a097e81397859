"""The conversation recording: a stereo 16-bit WAV, user input left, agent output as played right.

Sample 0 is session time 0. Audio is kept in memory only for a sliding
window (agent audio may still be cut back at barge-in), older blocks are
streamed to ``<path>.partial``, renamed to the final name on close.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


class ConversationRecorder:
    def __init__(self, path: str | Path, window_s: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._file = sf.SoundFile(self._partial, "w", samplerate=SR, channels=2, subtype="PCM_16", format="WAV")
        self._window = int(window_s * SR)
        self._buf = np.zeros((0, 2), dtype=np.int16)
        self._base = 0  # sample index of _buf[0]
        self._high = 0  # one past the last sample written

    def _ensure(self, end: int) -> None:
        need = end - self._base
        if need > len(self._buf):
            grow = max(need, len(self._buf) + SR * 5)
            buf = np.zeros((grow, 2), dtype=np.int16)
            buf[: len(self._buf)] = self._buf
            self._buf = buf
        self._high = max(self._high, end)

    def _place(self, channel: int, t: float, pcm: np.ndarray, add: bool) -> None:
        start = int(round(t * SR))
        if start < self._base:  # already flushed: only the part inside the window is kept
            pcm = pcm[self._base - start:]
            start = self._base
        if len(pcm) == 0:
            return
        self._ensure(start + len(pcm))
        region = self._buf[start - self._base: start - self._base + len(pcm), channel]
        if add:
            mixed = region.astype(np.int32) + pcm.astype(np.int32)
            region[:] = np.clip(mixed, -32768, 32767).astype(np.int16)
        else:
            region[:] = pcm

    def user(self, t: float, pcm: np.ndarray) -> None:
        self._place(0, t, pcm, add=False)
        self._flush_before(int(t * SR) - self._window)

    def agent(self, t: float, pcm16k: np.ndarray) -> None:
        self._place(1, t, pcm16k, add=True)

    def cut_agent(self, t_from: float, t_to: float) -> None:
        """Silence agent audio that was scheduled but never played (barge-in)."""
        a = max(int(round(t_from * SR)) - self._base, 0)
        b = max(int(round(t_to * SR)) - self._base, 0)
        if b > a:
            self._buf[a:min(b, len(self._buf)), 1] = 0

    def _flush_before(self, sample: int) -> None:
        n = min(sample - self._base, len(self._buf))
        if n <= SR:  # flush in blocks of at least a second
            return
        self._file.write(self._buf[:n])
        self._buf = self._buf[n:].copy()
        self._base += n

    def close(self) -> Path:
        high = max(self._high, self._base)
        self._file.write(self._buf[: max(high - self._base, 0)])
        self._file.close()
        os.replace(self._partial, self.path)
        return self.path

    def abort(self) -> None:
        """Keep what was recorded, under the ``.partial`` name, so an incomplete file is never mistaken for a whole one."""
        if not self._file.closed:
            high = max(self._high, self._base)
            self._file.write(self._buf[: max(high - self._base, 0)])
            self._file.close()
