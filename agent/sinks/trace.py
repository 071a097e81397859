"""The trace: every event as one JSON line with ``type`` and ``t``, written to ``trace.jsonl``."""
from __future__ import annotations

import json
import os
from pathlib import Path

from agent.events import Event, event_record

QUIET_KINDS = frozenset({"audio_chunk", "video_frame"})


class TraceWriter:
    """An observer; lines go to ``trace.jsonl.partial`` and the file is renamed when the session closes cleanly."""

    def __init__(self, path: str | Path, include_media: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._handle = self._partial.open("w", encoding="utf-8", buffering=1 << 16)
        self._include_media = include_media
        self.count = 0

    def __call__(self, event: Event) -> None:
        if not self._include_media and event.kind in QUIET_KINDS:
            return
        self._handle.write(json.dumps(event_record(event), ensure_ascii=False, default=str) + "\n")
        self.count += 1

    def close(self) -> Path:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._partial, self.path)
        return self.path

    def abort(self) -> None:
        if not self._handle.closed:
            self._handle.close()
