"""Configuration: typed, validated settings loaded from TOML with ``--set dotted.key=value`` overrides.

Each stage declares its own frozen settings dataclass (fields may carry
``metadata={"doc", "choices", "min", "max"}``); :class:`Config` composes them.
Loading checks every key and value and fails with one line naming the key.
"""
from __future__ import annotations

import dataclasses
import math
import re
import types
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from dialogue.settings import BrainSettings, PolicySettings
from perception.settings import (AsrSettings, ContextSettings, EndOfTurnSettings, ExpressionSettings, FaceSettings,
                                 FusionSettings, VadSettings, VisionSettings, VoiceSettings)
from speech.settings import TtsSettings

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "embedded.toml"


class ConfigError(ValueError):
    """A one-line, user-facing configuration problem naming the key."""


def _m(doc: str, **kw: Any) -> dict[str, Any]:
    return {"doc": doc, **kw}


@dataclass(frozen=True)
class SessionSettings:
    audio_queue: int = field(default=256, metadata=_m("bounded audio queue between source and VAD, in chunks (never dropped)", min=8))
    video_queue: int = field(default=4, metadata=_m("bounded video queue; when full the oldest frame is dropped", min=1))
    vision_threads: int = field(default=1, metadata=_m("threads for face and expression analysis (other lanes have one thread each: vad, asr, tts, cues)", min=1, max=16))
    loop_lag_interval_ms: int = field(default=20, metadata=_m("how often event-loop lag is sampled, ms", min=1))
    live_echo_guard_ms: int = field(default=400, metadata=_m("live mode: user speech during agent playback must last this long to count as barge-in (echo guard)", min=0))
    lane_timeout_s: float = field(default=10.0, metadata=_m("a model call (VAD, ASR, end of turn, cues, vision, TTS) that has not returned after this long counts as hung: the session goes on without it and the lane gets a fresh thread", min=0.05, max=120.0))
    source_stall_s: float = field(default=10.0, metadata=_m("a media file that yields nothing for this long (a stuck decoder) ends the session with an error", min=0.1))
    shed_video_ms: int = field(default=150, metadata=_m("audio handled this late (the CPU cannot keep up) sheds face analysis first", min=1))
    shed_speculation_ms: int = field(default=400, metadata=_m("audio handled this late also sheds speculative answers and incremental transcription (answers are then prepared at the end of the turn)", min=1))
    shed_video_cpu_wait: float = field(default=0.5, metadata=_m("CPU wait (this process's threads kept waiting for a core, on average over 2 s: another process takes the machine) that sheds face analysis; a quiet machine stays near 0.1", min=0.05))
    shed_speculation_cpu_wait: float = field(default=1.0, metadata=_m("CPU wait that also sheds speculative answers and incremental transcription", min=0.05))


@dataclass(frozen=True)
class OutputSettings:
    terminal: bool = field(default=True, metadata=_m("show the live conversation view in the terminal"))
    trace_audio_events: bool = field(default=False, metadata=_m("also trace every audio chunk and video frame (large)"))
    report: bool = field(default=True, metadata=_m("write report.html (timeline plot, turns, keyframes) beside the data files at the end of a run (~0.3 s)"))


_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


@dataclass(frozen=True)
class ServerSettings:
    max_sessions: int = field(default=2, metadata=_m("conversations at once (2 keeps voice-to-voice p90 near 1.5 s on 2 cores: README, Capacity); the next client gets a \"busy\" message and close code 1013", min=1, max=1000))
    allowed_hosts: tuple[str, ...] = field(default=(), metadata=_m("Host names accepted besides the bound address (and localhost, 127.0.0.1, [::1] on loopback), e.g. a reverse proxy's name; any other Host gets HTTP 403 (defeats DNS rebinding)"))
    max_message_bytes: int = field(default=256 * 1024, metadata=_m("largest WebSocket message; a bigger one closes the connection with 1009", min=2048, max=16 * 1024 * 1024))
    idle_timeout_s: float = field(default=20.0, metadata=_m("a client that sends nothing for this long is closed with 1008", min=1.0, max=3600.0))
    max_image_side: int = field(default=1920, metadata=_m("widest or tallest camera frame accepted, pixels; checked in the JPEG header before decoding", min=16, max=16384))
    max_image_pixels: int = field(default=4_000_000, metadata=_m("most pixels in a camera frame (width times height), checked before decoding", min=256, max=64_000_000))

    def validate(self) -> None:
        for name in self.allowed_hosts:
            if not _HOST_NAME.fullmatch(name.lower()):
                raise ValueError(f"allowed_hosts: {name!r} is not a host name; give names like "
                                 f"'companion.example.com' or '[fd00::1]', without scheme or port")


@dataclass(frozen=True)
class Config:
    session: SessionSettings = SessionSettings()
    vad: VadSettings = VadSettings()
    asr: AsrSettings = AsrSettings()
    end_of_turn: EndOfTurnSettings = EndOfTurnSettings()
    vision: VisionSettings = VisionSettings()
    face: FaceSettings = FaceSettings()
    expression: ExpressionSettings = ExpressionSettings()
    voice: VoiceSettings = VoiceSettings()
    fusion: FusionSettings = FusionSettings()
    context: ContextSettings = ContextSettings()
    policy: PolicySettings = PolicySettings()
    brain: BrainSettings = BrainSettings()
    tts: TtsSettings = TtsSettings()
    output: OutputSettings = OutputSettings()
    server: ServerSettings = ServerSettings()


def _type_name(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _coerce(key: str, tp: Any, value: Any, meta: dict[str, Any]) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if value is None or (isinstance(value, str) and value.lower() in ("none", "") and type(None) in options):
            if type(None) in options:
                return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(key, option, value, meta)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: bad value {value!r}")
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{key}: {value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        item_tp = get_args(tp)[0] if get_args(tp) else Any
        return tuple(_coerce(f"{key}[]", item_tp, v, {}) for v in value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):  # nan passes every min/max comparison
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
    elif tp is not Any:
        raise ConfigError(f"{key}: unsupported setting type {_type_name(tp)}")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(f"{key}: {value!r} is not allowed; choose one of {', '.join(map(repr, choices))}")
    if "min" in meta and value < meta["min"]:
        raise ConfigError(f"{key}: {value!r} is below the minimum {meta['min']}")
    if "max" in meta and value > meta["max"]:
        raise ConfigError(f"{key}: {value!r} is above the maximum {meta['max']}")
    return value


def build(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    """Make a settings dataclass from a mapping, rejecting unknown keys and bad values."""
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = prefix + unknown[0]
        raise ConfigError(f"{key}: unknown setting; allowed here: {', '.join(sorted(fields))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        tp = hints[name]
        key = prefix + name
        if dataclasses.is_dataclass(tp):
            values[name] = build(tp, value, key + ".")
        else:
            values[name] = _coerce(key, tp, value, dict(fields[name].metadata))
    try:
        obj = cls(**values)
    except ValueError as exc:
        raise ConfigError(f"{prefix.rstrip('.')}: {exc}") from None
    check = getattr(obj, "validate", None)
    if callable(check):
        try:
            check()
        except ValueError as exc:
            raise ConfigError(f"{prefix.rstrip('.') or 'config'}: {exc}") from None
    return obj


def parse_override(item: str) -> tuple[list[str], Any]:
    """``a.b=value``; the value is read as TOML (``0.4``, ``true``, ``"x"``, ``[1,2]``) or else as a bare string."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected dotted.key=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.split("."), value


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read a TOML config (default: ``configs/embedded.toml``), apply overrides, validate."""
    source = Path(path) if path else DEFAULT_CONFIG
    data: dict[str, Any] = {}
    if path is not None or source.exists():
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{source}: config file not found") from None
        except IsADirectoryError:
            raise ConfigError(f"{source}: is a folder; --config takes a TOML file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read the config ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    for item in overrides:
        parts, value = parse_override(item)
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item}: {part} is not a table")
        node[parts[-1]] = value
    return build(Config, data)


def iter_knobs(cls: type = Config, prefix: str = "") -> typing.Iterator[tuple[str, Any, str]]:
    """Every leaf setting as (dotted key, default, doc); used to check configs/ documents them all."""
    hints = typing.get_type_hints(cls)
    default = cls()
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from iter_knobs(tp, prefix + f.name + ".")
        else:
            yield prefix + f.name, getattr(default, f.name), f.metadata.get("doc", "")
