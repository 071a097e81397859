"""A session's files: recording, trace.jsonl, turns.json, metrics.json and report.html, written atomically."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from agent.runtime.events import Event, EventKind
from agent.files import atomic_write_json
from agent.media.sinks.recording import ConversationRecorder
from agent.media.sinks.trace import TraceWriter
from dialogue.types import Keyframe

logger = logging.getLogger(__name__)


class OutputError(ValueError):
    """An output path that cannot be written; the message names it."""


def check_folder(folder: str | Path, what: str) -> None:
    """Fail unless ``folder`` is, or can be made, a folder that takes files; ``what`` opens the error (an option and
    its value). Nothing is created: run it before anything slow (loading models), so a typo costs nothing."""
    folder = Path(folder).expanduser()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise OutputError(f"{what}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise OutputError(f"{what}: cannot write in {existing} ({exc.strerror or exc})") from None


def check_outputs(out_dir: str | Path | None, record: str | Path | None) -> None:
    """Fail at once, naming the option and the path, when ``--out`` or ``--record`` cannot be written."""
    if out_dir:
        check_folder(out_dir, f"--out {out_dir}")
    if record:
        if Path(record).is_dir():
            raise OutputError(f"--record {record}: is a folder; name a .wav file")
        check_folder(Path(record).parent, f"--record {record}")


REPORT_KEYFRAMES = 8


def report_keyframes(keyframes: list[tuple[float, bytes]], turns: list[dict[str, Any]]) -> list[tuple[float, bytes]]:
    """The keyframes the report shows: the one nearest the end of each turn's words (the face as that turn was read),
    or, without turns, an even spread of six."""
    ends = [float(t["user_end_s"]) for t in turns if isinstance(t.get("user_end_s"), (int, float))]
    if not keyframes or not ends:
        return keyframes[:: max(1, len(keyframes) // 6)][:6]
    nearest = {min(range(len(keyframes)), key=lambda k: abs(keyframes[k][0] - end)) for end in ends}
    return [keyframes[k] for k in sorted(nearest)][:REPORT_KEYFRAMES]


class SessionOutputs:
    """Owns the output files of one session; ``close`` finalizes them, ``abort`` leaves them marked incomplete."""

    def __init__(self, out_dir: str | Path | None, record: str | Path | None, trace_media: bool = False,
                 report: bool = True) -> None:
        self.out_dir = Path(out_dir) if out_dir else None
        self.report = report
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
            if not self.report:
                return written
            try:
                from agent.cli.report import write_report

                written.append(write_report(self.out_dir, report_keyframes(self.keyframes, self.turns)))
            except Exception as exc:  # the report is a view; the data files are what matter
                logger.warning("report.html not written: %s", exc)
        return written

    def abort(self) -> list[Path]:
        """Keep what was written as ``.partial`` files (the run was cut short); returns their paths."""
        kept = []
        for writer in (self.recorder, self.trace):
            if writer is not None:
                writer.abort()
                kept.append(writer.partial)
        return kept

    def discard(self) -> None:
        """Remove the ``.partial`` files: the session never started, so they hold nothing."""
        self.abort()
        for writer in (self.recorder, self.trace):
            if writer is not None:
                writer.partial.unlink(missing_ok=True)
