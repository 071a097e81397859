"""make_tts picks the configured backend; benchmark_tts measures first-audio latency and real-time factor."""
from __future__ import annotations

import sys

import pytest

from speech.hibari_tts import HibariTts
from speech.openai_tts import OpenAITts
from speech.settings import TtsSettings
from speech.tts import benchmark_tts, make_tts

SENTENCES = ["Hi there.", "I am glad you came by today.", "Tell me how your week has been."]


def test_default_backend_is_hibari() -> None:
    tts = make_tts(TtsSettings())
    assert isinstance(tts, HibariTts) and tts.name == "hibari"


def test_openai_backend_needs_no_server_until_it_speaks() -> None:
    tts = make_tts(TtsSettings(backend="openai", base_url="http://127.0.0.1:9/v1"))
    assert isinstance(tts, OpenAITts) and tts.url == "http://127.0.0.1:9/v1/audio/speech"


def test_unknown_backend_is_named() -> None:
    with pytest.raises(ValueError, match="unknown tts backend 'espeak'"):
        make_tts(TtsSettings(backend="espeak"))


def test_piper_without_its_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # makes `import piper` fail as if not installed
    with pytest.raises(RuntimeError, match=r"^piper backend needs: pip install 'humansense\[piper\]'$"):
        make_tts(TtsSettings(backend="piper", voice="joe"))


def test_benchmark_reports_latency_and_real_time_factor() -> None:
    result = benchmark_tts(make_tts(TtsSettings()), SENTENCES, runs=2)
    assert set(result) == {"first_audio_ms", "rtf", "x_realtime", "audio_s", "sentences", "runs"}
    assert 0 < result["first_audio_ms"] < 5000
    assert 0 < result["rtf"] < 1.0  # hibari is far faster than real time, even on a busy CPU
    assert result["x_realtime"] == pytest.approx(1 / result["rtf"])
    assert 3.0 < result["audio_s"] < 12.0
    assert result["sentences"] == 3 and result["runs"] == 2


def test_benchmark_needs_sentences() -> None:
    with pytest.raises(ValueError, match="at least one sentence"):
        benchmark_tts(make_tts(TtsSettings()), [])
