"""The user's recent audio on the session timeline, so a turn's speech spans can be cut out together whatever the VAD did."""
from __future__ import annotations

import numpy as np

from floor import SAMPLE_RATE
from perception.vad import TAIL_S


class UserAudio:
    """A ring of the last ``seconds`` of 16 kHz int16 input; :meth:`slice` returns any span still inside it.

    Gaps in the input (a source that skipped) read as silence; time 0 is sample 0 of the session.
    """

    def __init__(self, seconds: float, pre_roll_s: float = 0.0) -> None:
        self.pre_roll_s = pre_roll_s  # a turn is cut from this long before its first speech (the VAD starts late)
        self._ring = np.zeros(int(seconds * SAMPLE_RATE), np.int16)
        self._end = 0  # absolute sample index one past the newest sample

    def append(self, t: float, pcm: np.ndarray) -> None:
        start = int(round(t * SAMPLE_RATE))
        if start > self._end:  # a gap: clear what the ring would otherwise repeat
            self._write(self._end, np.zeros(min(start - self._end, len(self._ring)), np.int16))
        self._write(start, pcm)
        self._end = max(self._end, start + len(pcm))

    def _write(self, start: int, pcm: np.ndarray) -> None:
        n = len(self._ring)
        if len(pcm) >= n:
            start, pcm = start + len(pcm) - n, pcm[-n:]
        idx = (start + np.arange(len(pcm))) % n
        self._ring[idx] = pcm

    def slice(self, t0: float, t1: float) -> np.ndarray:
        """Samples from ``t0`` to ``t1`` (clipped to what is held); empty when nothing of it is held."""
        oldest = max(0, self._end - len(self._ring))
        a = max(int(round(t0 * SAMPLE_RATE)), oldest)
        b = min(int(round(t1 * SAMPLE_RATE)), self._end)
        if b <= a:
            return np.zeros(0, np.int16)
        return self._ring[np.arange(a, b) % len(self._ring)].copy()

    def turn(self, start: float, end: float) -> tuple[np.ndarray, float]:
        """A turn's audio from ``start`` (less the pre-roll) to ``end`` (plus the VAD's tail), and where it starts."""
        t0 = max(0.0, start - self.pre_roll_s)
        return self.slice(t0, end + TAIL_S), t0
