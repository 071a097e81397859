"""A session's files: recording, trace.jsonl, turns.json, metrics.json and report.html, written atomically."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from agent.events import Event, EventKind
from agent.files import atomic_write_json
from agent.sinks.recording import ConversationRecorder
from agent.sinks.trace import TraceWriter
from dialogue.types import Keyframe

logger = logging.getLogger(__name__)


class SessionOutputs:
    """Owns the output files of one session; ``close`` finalizes them, ``abort`` leaves them marked incomplete."""

    def __init__(self, out_dir: str | Path | None, record: str | Path | None, trace_media: bool = False) -> None:
        self.out_dir = Path(out_dir) if out_dir else None
        self.recorder = ConversationRecorder(record) if record else None
        self.trace = TraceWriter(self.out_dir / "trace.jsonl", trace_media) if self.out_dir else None
        self.turns: list[dict[str, Any]] = []
        self.keyframes: list[tuple[float, bytes]] = []

    def __call__(self, event: Event) -> None:
        if self.trace is not None:
            self.trace(event)
        if event.kind is EventKind.TURN and isinstance(event.data, dict):
            self.turns.append(event.data)
        elif isinstance(event.data, Keyframe):
            self.keyframes.append((event.t, event.data.jpeg))
            if len(self.keyframes) > 48:  # keep an even spread, bounded
                self.keyframes = self.keyframes[::2]

    def close(self, metrics: dict[str, Any]) -> list[Path]:
        written: list[Path] = []
        if self.recorder is not None:
            written.append(self.recorder.close())
        if self.out_dir is not None:
            assert self.trace is not None
            written.append(self.trace.close())
            atomic_write_json(self.out_dir / "turns.json", self.turns)
            atomic_write_json(self.out_dir / "metrics.json", metrics)
            written += [self.out_dir / "turns.json", self.out_dir / "metrics.json"]
            try:
                from agent.report import write_report

                written.append(write_report(self.out_dir, self.keyframes[:: max(1, len(self.keyframes) // 6)][:6]))
            except Exception as exc:  # the report is a view; the data files are what matter
                logger.warning("report.html not written: %s", exc)
        return written

    def abort(self) -> None:
        if self.recorder is not None:
            self.recorder.abort()
        if self.trace is not None:
            self.trace.abort()
