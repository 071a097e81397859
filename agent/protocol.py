"""The browser companion's wire protocol (version 1): message kinds, their validation and encoding.

One WebSocket at ``/ws`` carries both directions.

Handshake: ``GET /ws`` (optionally ``?token=TOKEN``, or the subprotocol
``humansense.token.TOKEN``). A server bound to a non-loopback address requires
the token: missing → HTTP 401, wrong → HTTP 403. A browser's ``Origin`` must
match the ``Host`` it connected to (else 403); non-browser clients (no Origin)
are only accepted from loopback.

Upstream (client → server)
  binary  ``0x01`` + PCM16 LE mono 16 kHz, 640..1280 bytes (20–40 ms, even length)
  binary  ``0x02`` + one JPEG camera frame (decoded server side; ~5 fps is plenty)
  text    ``{"type":"stop"}``                          barge-in by button: the agent stops speaking now
  text    ``{"type":"settings","voice":"heart","speed":1.1}``  both optional; speed 0.5..2.0
  text    ``{"type":"ping","id":any}``                  answered by ``{"type":"pong","id":...,"t":...}``

Downstream (server → client)
  text    ``{"type":"hello","protocol":1,"session":ID,"sample_rate":16000,"voice":...,"speed":...,"limits":{...}}``
          first message; the client sends media only after it
  binary  ``0x01`` + PCM16 LE mono 16 kHz of one agent sentence, preceded by the text message
          ``{"type":"agent_audio","t":START,"samples":N,"text":SENTENCE}``
  text    session events, ``{"type":KIND,"t":SECONDS,...}`` with KIND one of :data:`agent.events.FORWARDED`
  text    ``{"type":"settings",...}`` (the settings now in force), ``{"type":"pong",...}``
  text    ``{"type":"error","code":CODE,"message":TEXT}`` for a bad message; the connection stays open

Closes: 1008 (policy: rate limit, idle timeout, audio faster than real time, too slow a reader),
1009 (a message over the size limit), 1001 (server shutting down).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

PROTOCOL_VERSION = 1
SAMPLE_RATE = 16000
KIND_AUDIO = 0x01
KIND_JPEG = 0x02
AUDIO_MIN_BYTES = 640
AUDIO_MAX_BYTES = 1280
SPEED_RANGE = (0.5, 2.0)
TOKEN_SUBPROTOCOL = "humansense.token."


class ProtocolError(ValueError):
    """A client message that breaks the protocol; ``code`` is a stable machine-readable name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Control:
    """A validated JSON control message from the client."""
    type: str
    voice: str | None = None
    speed: float | None = None
    id: Any = None


def parse_binary(data: bytes) -> tuple[int, bytes]:
    """Split an upstream binary message into (kind, payload), checking the audio frame size."""
    if not data:
        raise ProtocolError("empty_frame", "binary message is empty; expected a 1-byte kind prefix")
    kind, payload = data[0], bytes(data[1:])
    if kind == KIND_AUDIO:
        if not AUDIO_MIN_BYTES <= len(payload) <= AUDIO_MAX_BYTES or len(payload) % 2:
            raise ProtocolError("bad_audio_frame", f"audio frame has {len(payload)} bytes; expected an even "
                                                   f"{AUDIO_MIN_BYTES}..{AUDIO_MAX_BYTES} (20-40 ms of 16 kHz PCM16)")
    elif kind == KIND_JPEG:
        if not payload:
            raise ProtocolError("bad_jpeg", "camera frame is empty")
    else:
        raise ProtocolError("unknown_kind", f"binary kind 0x{kind:02x} is unknown; expected 0x01 audio or 0x02 JPEG")
    return kind, payload


def parse_control(text: str) -> Control:
    """Validate one JSON control message."""
    try:
        msg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"message is not valid JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("bad_message", "a JSON message must be an object with a string \"type\"")
    kind = msg["type"]
    if kind == "stop":
        return Control("stop")
    if kind == "ping":
        return Control("ping", id=msg.get("id"))
    if kind == "settings":
        voice, speed = msg.get("voice"), msg.get("speed")
        if voice is not None and not isinstance(voice, str):
            raise ProtocolError("bad_settings", f"settings.voice must be a string, got {voice!r}")
        if speed is not None:
            if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not math.isfinite(speed) \
                    or not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
                raise ProtocolError("bad_settings", f"settings.speed must be a number in "
                                                    f"{SPEED_RANGE[0]}..{SPEED_RANGE[1]}, got {speed!r}")
            speed = float(speed)
        return Control("settings", voice=voice, speed=speed)
    raise ProtocolError("unknown_type", f"message type {kind!r} is unknown; expected stop, settings or ping")


def error(code: str, message: str) -> str:
    return json.dumps({"type": "error", "code": code, "message": message})


def encode_json(message: dict[str, Any]) -> str:
    """JSON a browser can parse: NaN and infinities (which JSON lacks) become null."""
    try:
        return json.dumps(message, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(message), ensure_ascii=False, default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def encode_audio(pcm16k: np.ndarray) -> bytes:
    """One downstream agent-audio message: the kind byte, then little-endian PCM16."""
    return bytes([KIND_AUDIO]) + np.ascontiguousarray(pcm16k, dtype="<i2").tobytes()


def decode_audio(payload: bytes) -> np.ndarray:
    return np.frombuffer(payload, dtype="<i2").astype(np.int16)
