"""ASR: the bundled tiny.en on synthesized speech (both local backends), and the OpenAI-compatible client against a live
local server."""
from __future__ import annotations

import io
import json
import socket
import threading
import time
import wave
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from floor import SAMPLE_RATE
from perception.asr import OpenAITranscriber, make_transcriber
from perception.faster_whisper_asr import WhisperTranscriber
from perception.settings import AsrSettings
from perception.transcriber import Transcriber, resolve_whisper_model
from perception.wer import word_error_rate
from perception.whisper_ct2 import CT2WhisperTranscriber


@pytest.fixture(scope="module", params=["whisper-ct2", "faster-whisper"])
def whisper(request: pytest.FixtureRequest) -> Transcriber:
    """Both local backends (the bundled tiny.en) pass the same tests."""
    transcriber = make_transcriber(AsrSettings(backend=request.param))
    transcriber.warm_up()
    return transcriber


def test_model_names_resolve_to_the_bundle_a_path_or_a_hub_name(tmp_path: Path) -> None:
    bundled = Path(resolve_whisper_model("bundled"))
    assert (bundled / "model.bin").is_file()
    assert resolve_whisper_model(str(tmp_path)) == str(tmp_path)
    assert resolve_whisper_model("large-v3") == "large-v3"
    with pytest.raises(FileNotFoundError, match="no/such/model"):
        resolve_whisper_model("no/such/model")


def test_the_default_backend_sizes_the_window_to_the_audio_and_the_others_stay_selectable() -> None:
    assert AsrSettings().backend == "whisper-ct2"
    assert isinstance(make_transcriber(AsrSettings()), CT2WhisperTranscriber)
    assert isinstance(make_transcriber(AsrSettings(backend="faster-whisper")), WhisperTranscriber)
    for transcriber in (make_transcriber(AsrSettings()), OpenAITranscriber(AsrSettings(backend="openai", model="w"))):
        assert isinstance(transcriber, Transcriber)
    with pytest.raises(ValueError, match="unknown asr.backend 'vosk'; expected 'whisper-ct2', 'faster-whisper'"):
        make_transcriber(AsrSettings(backend="vosk"))


def test_missing_model_path_fails_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        make_transcriber(AsrSettings(model=str(tmp_path / "gone")))
    assert str(tmp_path / "gone") in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(RuntimeError, match=f"cannot load Whisper model .*{tmp_path.name}") as info:
        make_transcriber(AsrSettings(model=str(tmp_path)))
    assert "\n" not in str(info.value)


def test_bundled_tiny_en_transcribes_a_sentence(whisper, speak, sentences) -> None:
    pcm = np.concatenate([np.zeros(SAMPLE_RATE // 4, np.int16), speak("weather")])
    transcript = whisper.transcribe(pcm, t0=7.0)
    assert word_error_rate(sentences["weather"], transcript.text) <= 0.10, transcript.text
    assert transcript.final and transcript.start == 7.0
    assert transcript.end == pytest.approx(7.0 + len(pcm) / SAMPLE_RATE)
    words = transcript.words
    assert len(words) >= 10
    assert 7.0 <= words[0].start < 7.6 and transcript.end - 0.6 < words[-1].end <= transcript.end
    assert all(type(w.start) is float and type(w.end) is float for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert all(w.start <= w.end for w in words)


def test_partial_flag_is_carried(whisper, speak) -> None:
    assert not whisper.transcribe(speak("question"), final=False).final


def test_silence_and_tiny_audio_give_empty_text(whisper) -> None:
    assert whisper.transcribe(np.zeros(2 * SAMPLE_RATE, np.int16)).text == ""
    tiny = whisper.transcribe(np.zeros(100, np.int16), t0=3.0)
    assert tiny.text == "" and tiny.words == () and tiny.start == 3.0


def test_float_audio_is_rejected_naming_the_dtype(whisper) -> None:
    with pytest.raises(ValueError, match="float32"):
        whisper.transcribe(np.zeros(SAMPLE_RATE, np.float32))


def test_fixed_cost_and_real_time_factor(whisper, speak) -> None:
    pcm = speak("long")
    assert len(pcm) / SAMPLE_RATE > 8.0
    start = time.perf_counter()
    whisper.transcribe(np.zeros(SAMPLE_RATE // 2, np.int16))
    fixed = time.perf_counter() - start
    start = time.perf_counter()
    whisper.transcribe(pcm)
    rtf = (time.perf_counter() - start) / (len(pcm) / SAMPLE_RATE)
    assert fixed < 3.0 and rtf < 0.5, f"fixed {fixed:.2f} s, RTF {rtf:.3f}"


class _Server:
    """A local OpenAI-style /v1/audio/transcriptions endpoint that records what it was sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, object]] = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                message = BytesParser(policy=email_policy).parsebytes(head + body)
                fields = {
                    part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                    for part in message.iter_parts()
                }
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **fields})
                if server.status != 200:
                    self.send_response(server.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": "model not found"}')
                    return
                payload = json.dumps(
                    {
                        "text": " Hello there.",
                        "language": "en",
                        "words": [{"word": "Hello", "start": 0.1, "end": 0.4}, {"word": "there.", "start": 0.5, "end": 0.8}],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture()
def server() -> Iterator[_Server]:
    s = _Server()
    thread = threading.Thread(target=s.httpd.serve_forever, daemon=True)
    thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def test_openai_client_posts_a_wav_and_reads_verbose_json(server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_ASR_KEY", "sk-test")
    settings = AsrSettings(backend="openai", model="openai/whisper-large-v3", base_url=server.base_url, api_key_env="TEST_ASR_KEY")
    transcriber = make_transcriber(settings)
    assert isinstance(transcriber, OpenAITranscriber)
    pcm = (np.sin(np.arange(SAMPLE_RATE) * 0.05) * 8000).astype(np.int16)
    transcript = transcriber.transcribe(pcm, t0=2.0)
    assert transcript.text == "Hello there."
    assert [(w.text, w.start, w.end) for w in transcript.words] == [("Hello", 2.1, 2.4), ("there.", 2.5, 2.8)]
    assert transcript.end == pytest.approx(3.0)
    (request,) = server.requests
    assert request["path"] == "/v1/audio/transcriptions"
    assert request["auth"] == "Bearer sk-test"
    assert request["model"] == b"openai/whisper-large-v3"
    assert request["response_format"] == b"verbose_json"
    assert request["timestamp_granularities[]"] == b"word"
    with wave.open(io.BytesIO(request["file"])) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        np.testing.assert_array_equal(np.frombuffer(w.readframes(w.getnframes()), "<i2"), pcm)
    transcriber.close()


def test_openai_client_reports_http_errors_and_dead_ports(server) -> None:
    server.status = 404
    transcriber = OpenAITranscriber(AsrSettings(backend="openai", model="whisper", base_url=server.base_url))
    with pytest.raises(RuntimeError, match="answered HTTP 404: .*model not found"):
        transcriber.transcribe(np.zeros(SAMPLE_RATE, np.int16))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dead = OpenAITranscriber(AsrSettings(backend="openai", model="whisper", base_url=f"http://127.0.0.1:{dead_port}/v1"))
    with pytest.raises(RuntimeError, match=f"ASR server http://127.0.0.1:{dead_port}/v1/audio/transcriptions unreachable") as info:
        dead.transcribe(np.zeros(SAMPLE_RATE, np.int16))
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="openai backend"):
        OpenAITranscriber(AsrSettings(backend="openai"))
