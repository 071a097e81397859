"""What the agent did about each sound over its answer (backchannel, cough, false interruption): stopped, resumed.

Measured in the recording, against agent spans with gaps under ``STOP_GAP_S`` merged:
- *over the agent*: the agent sounded at the overlap's onset (or less than STOP_GAP_S before it);
- *stopped*: that sound ends before ``STOP_WINDOW_S`` after the overlap's end (and before the next user turn);
  an answer that ends by itself in that window counts too, so scripts place overlaps early in the answer;
- *resumed*: stopped, the agent sounds again within ``RESUME_WINDOW_S`` after the overlap's end, before the next
  user turn, and not to answer a turn made of the overlap (a turns.json entry whose speech takes in the overlap
  and ends before the agent sounds again).
The trace cross-checks each: a ``barge_in``, ``agent_resumed`` or ``overlap_ignored`` event whose onset lies within
``TRACE_TOLERANCE_S`` of the overlap (None when the run wrote no trace).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.runtime.events import EventKind
from benchmarks.latency.render import GroundTruth, TrueOverlap

STOP_GAP_S = 0.5
"""Silence this long means the agent stopped: longer than the pauses inside an answer. Measured in fast replays
(2026-11-29): 0.16-0.21 s between hibari sentences, up to 0.40 s at a comma in a long sentence spoken at 0.92x
(slower emotions stretch it). A stop and resume within this is seen only by the trace."""
STOP_WINDOW_S = 0.5
RESUME_WINDOW_S = 2.5
TRACE_TOLERANCE_S = 0.25
"""The runtime dates an onset from VAD chunks and its pre-roll; this much either side of the true sound."""
NEW_TURN_TOLERANCE_S = 0.3
"""A reported turn whose speech starts by this long after the overlap's end takes it in (VAD onsets run late)."""


@dataclass(frozen=True)
class OverlapMeasure:
    """What the agent did about one overlap; the trace_* are None without a trace."""
    kind: str
    start_s: float
    end_s: float
    text: str
    over_agent: bool
    stopped: bool
    stop_ms: float | None
    resumed: bool
    trace_stopped: bool | None = None
    trace_resumed: bool | None = None
    trace_ignored: bool | None = None


def _traced(trace: list[dict[str, Any]] | None, kind: EventKind, overlap: TrueOverlap) -> bool | None:
    if trace is None:
        return None
    return any(e.get("type") == kind and e.get("onset") is not None
               and overlap.start_s - TRACE_TOLERANCE_S <= float(e["onset"]) <= overlap.end_s + TRACE_TOLERANCE_S
               for e in trace)


def _answered(overlap: TrueOverlap, again: float, reports: list[dict[str, Any]]) -> bool:
    """Whether a reported turn took in the overlap and ended before ``again``: the agent then answered it."""
    return any(r.get("user_end_s") is not None and overlap.start_s <= float(r["user_end_s"]) < again
               and (r.get("user_start_s") is None or float(r["user_start_s"]) <= overlap.end_s + NEW_TURN_TOLERANCE_S)
               for r in reports)


def measure_overlap(overlap: TrueOverlap, spans: list[tuple[float, float]], truth: GroundTruth,
                    reports: list[dict[str, Any]], trace: list[dict[str, Any]] | None) -> OverlapMeasure:
    """``spans``: the agent's sound with gaps under STOP_GAP_S merged; ``reports``: turns.json; ``trace``:
    trace.jsonl's events or None."""
    next_turn = min((t.start_s for t in truth.turns if t.start_s >= overlap.start_s), default=float("inf"))
    sounding = next((k for k, (s, e) in enumerate(spans) if s <= overlap.start_s < e + STOP_GAP_S), None)
    stopped = resumed = False
    stop_ms = None
    if sounding is not None:
        end = spans[sounding][1]
        stopped = end < min(overlap.end_s + STOP_WINDOW_S, next_turn)
        if stopped:
            stop_ms = max(0.0, end - overlap.start_s) * 1000
            again = spans[sounding + 1][0] if sounding + 1 < len(spans) else float("inf")
            resumed = (again <= overlap.end_s + RESUME_WINDOW_S and again < next_turn
                       and not _answered(overlap, again, reports))
    return OverlapMeasure(kind=overlap.kind, start_s=overlap.start_s, end_s=overlap.end_s, text=overlap.text,
                          over_agent=sounding is not None, stopped=stopped, stop_ms=stop_ms, resumed=resumed,
                          trace_stopped=_traced(trace, EventKind.BARGE_IN, overlap),
                          trace_resumed=_traced(trace, EventKind.AGENT_RESUMED, overlap),
                          trace_ignored=_traced(trace, EventKind.OVERLAP_IGNORED, overlap))
