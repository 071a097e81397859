"""The browser companion's wire protocol (version 1): message kinds, their validation and encoding.

One WebSocket at ``/ws`` carries both directions.

Handshake: every request (the page's assets too) must carry a ``Host`` that
names this server: the bound address, the address the client reached, on
loopback also ``localhost``/``127.0.0.1``/``[::1]``, or a name in
``server.allowed_hosts``; any other Host → HTTP 403 (this defeats DNS
rebinding). ``GET /ws`` (optionally ``?token=TOKEN``, or the subprotocol
``humansense.token.TOKEN``). A server bound to a non-loopback address requires
the token: missing → HTTP 401, wrong → HTTP 403. A browser's ``Origin`` must
match the ``Host`` it connected to (else 403); non-browser clients (no Origin)
are only accepted from loopback. At capacity (``server.max_sessions``
conversations) the handshake still succeeds, so that a browser can read why:
the only message is ``busy`` and the close code is 1013.

Upstream (client → server)
  binary  ``0x01`` + PCM16 LE mono 16 kHz, 640..1280 bytes (20–40 ms, even length)
  binary  ``0x02`` + one JPEG camera frame (decoded server side; ~5 fps is plenty); its header's size must be
          within ``server.max_image_side`` a side and ``server.max_image_pixels`` in all
  text    ``{"type":"stop"}``                          barge-in by button: the agent stops speaking now
  text    ``{"type":"settings","voice":"heart","speed":1.1}``  both optional; speed 0.5..2.0
  text    ``{"type":"ping","id":ID}``                   answered by ``{"type":"pong","id":ID,"t":...}``; ID is null,
          a number (integers within ±2**53) or a string of up to 64 characters
  Text is JSON of at most 16384 characters, nested at most 32 levels deep; NaN and Infinity are not JSON.

Downstream (server → client)
  text    ``{"type":"hello","protocol":1,"session":ID,"sample_rate":16000,"voice":...,"speed":...,"limits":{...}}``
          first message; the client sends media only after it
  binary  ``0x01`` + PCM16 LE mono 16 kHz of one agent sentence, preceded by the text message
          ``{"type":"agent_audio","t":START,"samples":N,"text":SENTENCE}``
  text    session events, ``{"type":KIND,"t":SECONDS,...}`` with KIND one of :data:`agent.runtime.events.FORWARDED`
  text    ``{"type":"settings",...}`` (the settings now in force), ``{"type":"pong",...}``
  text    ``{"type":"error","code":CODE,"message":TEXT}`` for a bad message; the connection stays open. CODE is
          one of bad_json, bad_message, unknown_type, bad_settings, empty_frame, unknown_kind, bad_audio_frame,
          bad_jpeg
  text    ``{"type":"busy","message":TEXT,"retry_after_s":N,"sessions":K,"capacity":C}`` instead of hello when
          the server is at capacity; close 1013 follows
  text    ``{"type":"session_failed","reason":TEXT}`` when the conversation broke server side; close 1011 follows

Closes: the server answers a client's close with the client's code; otherwise it sends exactly these.
  1001  the server is shutting down
  1002  a frame that breaks RFC 6455 (bad opcode, unmasked, ...)
  1007  a text message that is not UTF-8
  1008  policy: rate limit, idle timeout, audio faster than real time, too slow a reader (its backlog is
        dropped; when even the close frame cannot be written within 1 s, the TCP connection is cut instead)
  1009  a message over the size limit (``server.max_message_bytes``)
  1011  the session failed, ended or could not start (after ``session_failed`` when there is a reason), or a
        keepalive ping went unanswered for 20 s
  1013  busy: at capacity (after the ``busy`` message); try again after ``retry_after_s``
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.server import jsonlimits

PROTOCOL_VERSION = 1
KIND_AUDIO = 0x01
KIND_JPEG = 0x02
AUDIO_MIN_BYTES = 640
AUDIO_MAX_BYTES = 1280
SPEED_RANGE = (0.5, 2.0)
TOKEN_SUBPROTOCOL = "humansense.token."
MAX_CONTROL_CHARS = 16 * 1024
MAX_JSON_DEPTH = 32   # control messages are flat; anything deeper is an attack on the parser
MAX_ID_CHARS = 64
MAX_ID_INT = 2 ** 53  # the largest integer a browser's JSON.parse keeps exact


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
    if len(text) > MAX_CONTROL_CHARS:  # bounds the parser's work per message: a real one is under 200 characters
        raise ProtocolError("bad_message", f"text message has {len(text)} characters; control messages have at most "
                                           f"{MAX_CONTROL_CHARS} (media goes in binary messages)")
    try:
        msg = jsonlimits.loads(text, MAX_JSON_DEPTH)
    except ValueError as exc:
        raise ProtocolError("bad_json", f"message is {exc}") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("bad_message", "a JSON message must be an object with a string \"type\"")
    kind = msg["type"]
    if kind == "stop":
        return Control("stop")
    if kind == "ping":
        ping_id = msg.get("id")
        if not _valid_id(ping_id):
            raise ProtocolError("bad_message", f"ping.id must be null, a number or a string of up to {MAX_ID_CHARS} "
                                               f"characters; got {_described(ping_id)}")
        return Control("ping", id=ping_id)
    if kind == "settings":
        voice, speed = msg.get("voice"), msg.get("speed")
        if voice is not None and not isinstance(voice, str):
            raise ProtocolError("bad_settings", f"settings.voice must be a string, got {_described(voice)}")
        if speed is not None:
            # a range check, not math.isfinite: that overflows on a 400-digit integer; NaN fails the range too
            if isinstance(speed, bool) or not isinstance(speed, (int, float)) \
                    or not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
                raise ProtocolError("bad_settings", f"settings.speed must be a number in "
                                                    f"{SPEED_RANGE[0]}..{SPEED_RANGE[1]}, got {_described(speed)}")
            speed = float(speed)
        return Control("settings", voice=voice, speed=speed)
    raise ProtocolError("unknown_type", f"message type {shown(kind)} is unknown; expected stop, settings or ping")


def shown(value: Any, limit: int = 40) -> str:
    """A client's value quoted in an error: its repr, cut so an error never echoes a large message back."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _described(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return f"a JSON {'array' if isinstance(value, list) else 'object'}"
    if isinstance(value, str) and len(value) > MAX_ID_CHARS:
        return f"a string of {len(value)} characters"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID_INT:
        return f"an integer of {len(str(abs(value)))} digits"
    return shown(value)


def _valid_id(value: Any) -> bool:
    """Echoed back in the pong, so it must be small: no containers, long strings or integers past 2**53."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value) <= MAX_ID_CHARS
    if isinstance(value, int):
        return abs(value) <= MAX_ID_INT
    return isinstance(value, float) and math.isfinite(value)


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
