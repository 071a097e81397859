"""The trace: every event as one JSON line with ``type`` and ``t``, written to ``trace.jsonl``."""
from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from agent.runtime.events import Event, event_record

QUIET_KINDS = frozenset({"audio_chunk", "video_frame"})
FLUSH_EVERY_S = 1.0
"""A line reaches the file at most this long after it was written, so a killed process loses at most that much."""


class TraceWriter:
    """An observer; lines go to ``trace.jsonl.partial`` and the file is renamed when the session closes cleanly.

    Lines are buffered and flushed by time, not per line (cheap at any event rate): at the first write after
    ``FLUSH_EVERY_S``, or by a timer on the running loop when no further event comes.
    """

    def __init__(self, path: str | Path, include_media: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._handle = self.partial.open("w", encoding="utf-8", buffering=1 << 16)
        self._include_media = include_media
        self._flushed_at = time.monotonic()
        self._timer: asyncio.TimerHandle | None = None
        self.count = 0

    def __call__(self, event: Event) -> None:
        if not self._include_media and event.kind in QUIET_KINDS:
            return
        self._handle.write(json.dumps(event_record(event), ensure_ascii=False, default=str) + "\n")
        self.count += 1
        due = self._flushed_at + FLUSH_EVERY_S - time.monotonic()
        if due <= 0:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(due, self.flush)
            except RuntimeError:  # no loop (a test, a script): the next write past the deadline flushes
                pass

    def flush(self) -> None:
        """Hand the buffered lines to the OS (they survive a kill; no fsync, which could stall the loop)."""
        self._cancel_timer()
        if not self._handle.closed:
            self._handle.flush()
        self._flushed_at = time.monotonic()

    def close(self) -> Path:
        self.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        self._cancel_timer()
        if not self._handle.closed:
            self._handle.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
