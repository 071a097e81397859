"""OpenAITts against a real HTTP server in the test speaking the /v1/audio/speech protocol."""
from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile as sf

from speech.openai_tts import OpenAITts
from speech.settings import TtsSettings
from speech.types import Style

SERVER_RATE = 16000


class SpeechHandler(BaseHTTPRequestHandler):
    """Answers POST /v1/audio/speech with a 440 Hz tone as long as the input has characters (0.05 s each)."""

    requests: list[tuple[dict, str]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SpeechHandler.requests.append((body, self.headers.get("Authorization", "")))
        if self.path != "/v1/audio/speech":
            self._reply(404, b'{"error": "no such route"}', "application/json")
        elif body["voice"] == "broken":
            self._reply(200, b"this is not audio", "audio/wav")
        elif body["model"] != "tts-1":
            self._reply(400, b'{"error": {"message": "model not found"}}', "application/json")
        else:
            t = np.arange(int(0.05 * len(body["input"]) * SERVER_RATE)) / SERVER_RATE
            tone = 0.5 * np.sin(2 * np.pi * 440 * t)
            buf = io.BytesIO()
            sf.write(buf, np.stack([tone, tone], axis=1), SERVER_RATE, format="WAV", subtype="PCM_16")
            self._reply(200, buf.getvalue(), "audio/wav")

    def _reply(self, code: int, data: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SpeechHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_posts_the_protocol_fields_and_resamples_to_24k(base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TTS_KEY", "sk-test")
    tts = OpenAITts(TtsSettings(backend="openai", base_url=base_url, voice="alloy", api_key_env="TEST_TTS_KEY"))
    SpeechHandler.requests.clear()
    audio = tts.synthesize("Twenty characters...", Style(speed=1.25, volume=1.0, voice="alloy"))
    body, auth = SpeechHandler.requests[-1]
    assert body == {"model": "tts-1", "input": "Twenty characters...", "voice": "alloy",
                    "response_format": "wav", "speed": 1.25}
    assert auth == "Bearer sk-test"
    assert tts.sample_rate == 24000 and audio.dtype == np.int16 and audio.ndim == 1
    assert len(audio) == pytest.approx(1.0 * 24000, abs=2)
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64)))
    assert np.fft.rfftfreq(len(audio), 1 / 24000)[np.argmax(spectrum)] == pytest.approx(440, abs=2)
    assert np.abs(audio).max() == pytest.approx(0.5 * 32767, rel=0.01)
    tts.close()


def test_volume_is_applied_and_warm_up_makes_a_request(base_url: str) -> None:
    tts = OpenAITts(TtsSettings(backend="openai", base_url=base_url))
    SpeechHandler.requests.clear()
    tts.warm_up()
    assert len(SpeechHandler.requests) == 1
    quiet = tts.synthesize("Hi there.", Style(volume=0.5))
    assert np.abs(quiet).max() == pytest.approx(0.25 * 32767, rel=0.01)
    tts.close()


def test_http_errors_are_one_line_with_status_and_detail(base_url: str) -> None:
    tts = OpenAITts(TtsSettings(backend="openai", base_url=base_url, model="nope"))
    with pytest.raises(RuntimeError, match=r"answered HTTP 400: .*model not found") as err:
        tts.synthesize("Hello.", Style())
    assert "\n" not in str(err.value)


def test_non_audio_response_is_reported(base_url: str) -> None:
    tts = OpenAITts(TtsSettings(backend="openai", base_url=base_url, voice="broken"))
    with pytest.raises(RuntimeError, match="did not return readable WAV audio"):
        tts.synthesize("Hello.", Style())


def test_unreachable_server_is_reported() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    tts = OpenAITts(TtsSettings(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=2.0))
    with pytest.raises(RuntimeError, match=f"cannot reach http://127.0.0.1:{port}/v1/audio/speech"):
        tts.synthesize("Hello.", Style())
