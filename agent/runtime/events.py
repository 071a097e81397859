"""The event envelope: one frozen record per fact, stamped on the session timeline.

Stages produce their own small result types (perception, dialogue, speech);
the runtime wraps each in an :class:`Event` with the time it happened and the
session it belongs to. ``kind`` is one :class:`EventKind`, whose value is the
``type`` in ``trace.jsonl`` and over the WebSocket. Payloads keep full precision:
rounding happens once, when an event is serialised.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class EventKind(str, enum.Enum):
    """Every kind of event on the bus, declared once; the value is the trace's ``type``."""

    SESSION_STARTED = "session_started"
    SESSION_ENDED = "session_ended"
    SESSION_FAILED = "session_failed"          # a worker failed; the session ends with this one-line reason
    LOAD_SHEDDING = "load_shedding"            # the CPU cannot keep up: optional work is being shed (level, state)
    SPEECH_STARTED = "speech_started"          # the VAD confirmed speech; t = its onset
    SILENCE_STARTED = "silence_started"        # the user paused; t = the pause onset
    SPEECH_RESUMED = "speech_resumed"
    SPEECH_ENDED = "speech_ended"              # the VAD closed its segment; t = where speech ended
    TRANSCRIPT = "transcript"
    FACE_CUE = "face_cue"
    VOICE_CUE = "voice_cue"
    TEXT_CUE = "text_cue"
    EMOTION_STATE = "emotion_state"
    KEYFRAME = "keyframe"
    TURN_COMMITTED = "turn_committed"          # the turn-taker ended the user's turn
    DECISION = "decision"
    AGENT_TEXT = "agent_text"                  # a sentence as it starts playing
    AGENT_SPEECH_STARTED = "agent_speech_started"
    AGENT_SPEECH_ENDED = "agent_speech_ended"
    BARGE_IN = "barge_in"                      # user speech stopped the agent's playback
    AGENT_RESUMED = "agent_resumed"            # a false interruption: the stopped answer plays on
    OVERLAP_IGNORED = "overlap_ignored"        # user sound over the agent that did not stop it
    RESPONSE_DROPPED = "response_dropped"      # an answer committed but never heard
    PREEMPTIVE_DISCARDED = "preemptive_discarded"  # an answer prepared in a pause the user talked through
    ACKNOWLEDGEMENT = "acknowledgement"
    BACKCHANNEL = "backchannel"
    BRAIN_NOTE = "brain_note"
    TURN = "turn"                              # one finished turn, as in turns.json
    ERROR = "error"


FORWARDED: frozenset[EventKind] = frozenset({
    EventKind.TRANSCRIPT, EventKind.FACE_CUE, EventKind.VOICE_CUE, EventKind.TEXT_CUE, EventKind.EMOTION_STATE,
    EventKind.DECISION, EventKind.AGENT_TEXT, EventKind.AGENT_SPEECH_STARTED, EventKind.AGENT_SPEECH_ENDED,
    EventKind.BARGE_IN, EventKind.AGENT_RESUMED, EventKind.OVERLAP_IGNORED, EventKind.RESPONSE_DROPPED,
    EventKind.TURN, EventKind.BRAIN_NOTE, EventKind.ERROR, EventKind.SPEECH_STARTED, EventKind.SPEECH_ENDED,
    EventKind.ACKNOWLEDGEMENT, EventKind.SESSION_ENDED, EventKind.SESSION_FAILED, EventKind.LOAD_SHEDDING,
})
"""The kinds a browser client receives over the WebSocket."""


@dataclass(frozen=True)
class Event:
    t: float
    kind: EventKind
    data: object = None
    session: str = ""


def to_jsonable(value: Any) -> Any:
    """Turn a result dataclass into JSON-ready values; raw arrays become a short summary."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
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
    record: dict[str, Any] = {"type": event.kind.value, "t": round(event.t, 4)}
    if event.session:
        record["session"] = event.session
    payload = to_jsonable(event.data)
    if isinstance(payload, dict):
        record.update({k: v for k, v in payload.items() if k not in ("type", "t")})
    elif payload is not None:
        record["value"] = payload
    return record


__all__ = ["Event", "EventKind", "FORWARDED", "event_record", "to_jsonable", "field"]
