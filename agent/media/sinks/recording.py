"""The conversation recording: a stereo 16-bit WAV, user input left, agent output as played right.

Sample 0 is session time 0. Audio is kept in memory for a sliding window (agent audio may still be cut
back at barge-in) and written to ``<path>.partial`` as the timeline advances: at least every
``SYNC_EVERY_S`` of media the samples up to now are written and the WAV header's sizes brought up to
date, so a killed process leaves a valid WAV of everything recorded up to a second before. A clean
close renames it to the final name. A write that fails (a full disk) stops the recording where it is, leaves
the ``.partial`` file as it stands and tells ``on_failure`` once: the conversation matters more than its recording.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from floor import SAMPLE_RATE

logger = logging.getLogger(__name__)

SYNC_EVERY_S = 1.0
_SFC_UPDATE_HEADER_NOW = 0x1060
"""libsndfile's ``sf_command`` that rewrites the header's sizes for what is written so far (not in soundfile's API)."""


def update_header(handle: sf.SoundFile) -> None:
    """Make the header of a WAV being written match its data, so any reader sees the frames written until now.

    libsndfile writes the sizes only on close (``SoundFile.flush`` is an fsync and leaves them 0); readers that
    trust the header (Python's ``wave``, browsers) would see an empty file after a crash.
    """
    sf._snd.sf_command(handle._file, _SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)


class ConversationRecorder:
    def __init__(self, path: str | Path, window_s: float = 60.0) -> None:
        self.on_failure: Callable[[Exception], None] | None = None
        self.failure: Exception | None = None
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._file = sf.SoundFile(self.partial, "w", samplerate=SAMPLE_RATE, channels=2, subtype="PCM_16", format="WAV")
        update_header(self._file)  # a valid empty WAV from the start, not a header without its sizes
        self._window = int(window_s * SAMPLE_RATE)
        self._buf = np.zeros((0, 2), dtype=np.int16)
        self._base = 0  # sample index of _buf[0]
        self._high = 0  # one past the last sample placed
        self._now = 0  # the timeline as far as the recorder has seen it (agent audio may be placed ahead of it)
        self._written = 0  # samples in the file
        self._dirty = 0  # lowest sample changed since the last sync: from min(_dirty, _written) on is unsynced
        self._next_sync = int(SYNC_EVERY_S * SAMPLE_RATE)

    def _ensure(self, end: int) -> None:
        need = end - self._base
        if need > len(self._buf):
            grow = max(need, len(self._buf) + SAMPLE_RATE * 5)
            buf = np.zeros((grow, 2), dtype=np.int16)
            buf[: len(self._buf)] = self._buf
            self._buf = buf
        self._high = max(self._high, end)

    def _place(self, channel: int, t: float, pcm: np.ndarray, add: bool) -> None:
        start = int(round(t * SAMPLE_RATE))
        if start < self._base:  # already forgotten: only the part inside the window is kept
            pcm = pcm[self._base - start:]
            start = self._base
        if len(pcm) == 0:
            return
        self._ensure(start + len(pcm))
        self._dirty = min(self._dirty, start)
        region = self._buf[start - self._base: start - self._base + len(pcm), channel]
        if add:
            mixed = region.astype(np.int32) + pcm.astype(np.int32)
            region[:] = np.clip(mixed, -32768, 32767).astype(np.int16)
        else:
            region[:] = pcm

    def user(self, t: float, pcm: np.ndarray) -> None:
        if self.failure is not None:
            return
        self._place(0, t, pcm, add=False)
        self._advance(int(round(t * SAMPLE_RATE)) + len(pcm))
        self._forget_before(int(t * SAMPLE_RATE) - self._window)

    def agent(self, t: float, pcm16k: np.ndarray) -> None:
        if self.failure is not None:
            return
        self._place(1, t, pcm16k, add=True)
        self._advance(int(round(t * SAMPLE_RATE)))

    def cut_agent(self, t_from: float, t_to: float) -> None:
        """Silence agent audio that was scheduled but never played (barge-in)."""
        a = max(int(round(t_from * SAMPLE_RATE)) - self._base, 0)
        b = max(int(round(t_to * SAMPLE_RATE)) - self._base, 0)
        if b > a:
            self._buf[a:min(b, len(self._buf)), 1] = 0
            self._dirty = min(self._dirty, self._base + a)

    def _advance(self, now: int) -> None:
        self._now = max(self._now, now)
        if self._now >= self._next_sync:
            self._sync(min(self._now, self._high))
            self._next_sync = self._now + int(SYNC_EVERY_S * SAMPLE_RATE)

    def _sync(self, upto: int) -> None:
        """Write every unsynced sample before ``upto`` (and any changed since), then the header's sizes.

        No fsync: the kernel keeps written bytes when the process is killed, and an fsync could stall the loop.
        """
        if self.failure is not None:
            return
        start = max(min(self._dirty, self._written), self._base)
        end = max(upto, self._written)
        if end > start:
            try:
                self._file.seek(start)
                self._file.write(self._buf[start - self._base: end - self._base])
                update_header(self._file)
            except (OSError, RuntimeError) as exc:  # libsndfile's errors are RuntimeErrors (LibsndfileError)
                self._fail(exc)
                return
        self._written = max(self._written, end)
        self._dirty = self._written

    def _forget_before(self, sample: int) -> None:
        """Drop the in-memory copy of synced samples older than ``sample``, in blocks of at least a second."""
        n = min(sample, self._dirty, self._written) - self._base
        if n <= SAMPLE_RATE:
            return
        self._buf = self._buf[n:].copy()
        self._base += n

    def _fail(self, exc: Exception) -> None:
        self.failure = exc
        self._buf = np.zeros((0, 2), dtype=np.int16)
        try:
            self._file.close()
        except (OSError, RuntimeError) as close_exc:  # the same full disk: what reached the file stays there
            logger.debug("closing the failed recording: %s", close_exc)
        if self.on_failure is not None:
            self.on_failure(exc)

    def close(self) -> Path:
        """Finish the file under its final name; a recording that failed stays ``.partial`` (returned)."""
        self._sync(self._high)
        if self.failure is not None:
            return self.partial
        self._file.close()
        os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        """Keep what was recorded, under the ``.partial`` name, so an incomplete file is never mistaken for a whole one."""
        if not self._file.closed:
            self._sync(self._high)
        if not self._file.closed:
            self._file.close()
