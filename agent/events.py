"""The event envelope: one frozen record per fact, stamped on the session timeline.

Stages produce their own small result types (perception, dialogue, speech);
the runtime wraps each in an :class:`Event` with the time it happened and the
session it belongs to. ``kind`` is a snake_case name that also appears as
``type`` in ``trace.jsonl``.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Event:
    t: float
    kind: str
    data: object = None
    session: str = ""


def to_jsonable(value: Any) -> Any:
    """Turn a result dataclass into JSON-ready values; raw arrays become a short summary."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.metadata.get("trace_skip")}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, (np.floating, float)):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    return value


def event_record(event: Event) -> dict[str, Any]:
    """One trace line: ``type`` and ``t`` first, then the payload's fields."""
    record: dict[str, Any] = {"type": event.kind, "t": round(event.t, 4)}
    if event.session:
        record["session"] = event.session
    payload = to_jsonable(event.data)
    if isinstance(payload, dict):
        record.update({k: v for k, v in payload.items() if k not in ("type", "t")})
    elif payload is not None:
        record["value"] = payload
    return record


__all__ = ["Event", "event_record", "to_jsonable", "field"]
