"""Speech recognition of one turn's audio: the backend factory, and the OpenAI-compatible server backend."""
from __future__ import annotations

import os
from typing import Any

import httpx
import numpy as np

from floor import error_line
from perception.audio import wav_bytes
from perception.faster_whisper_asr import WhisperTranscriber
from perception.settings import AsrSettings
from perception.transcriber import MIN_AUDIO_S, Transcriber, check_pcm, duration, empty_transcript
from perception.types import Transcript, Word


class OpenAITranscriber:
    """An OpenAI-compatible ``/v1/audio/transcriptions`` server (e.g. vLLM serving Whisper)."""

    def __init__(self, settings: AsrSettings) -> None:
        if settings.model == "bundled":
            raise ValueError('asr.model must name the served model for the openai backend, not "bundled"')
        self.settings = settings
        self.name = f"openai:{settings.model}"
        self.load_seconds = 0.0
        self._url = settings.base_url.rstrip("/") + "/audio/transcriptions"
        key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=settings.timeout_s, headers=headers)

    def transcribe(self, pcm: np.ndarray, t0: float = 0.0, final: bool = True) -> Transcript:
        check_pcm(pcm)
        end = t0 + duration(pcm)
        if duration(pcm) < MIN_AUDIO_S:
            return empty_transcript(pcm, t0, final, self.settings.language)
        data = {"model": self.settings.model, "response_format": "verbose_json", "timestamp_granularities[]": "word"}
        if self.settings.language not in ("", "auto"):
            data["language"] = self.settings.language
        try:
            response = self._client.post(self._url, data=data, files={"file": ("audio.wav", wav_bytes(pcm), "audio/wav")})
        except httpx.HTTPError as e:
            raise RuntimeError(f"ASR server {self._url} unreachable: {error_line(e, typed=True)}") from e
        if response.status_code >= 400:
            body = " ".join(response.text.split())[:200]
            raise RuntimeError(f"ASR server {self._url} answered HTTP {response.status_code}: {body}")
        try:
            body_json: dict[str, Any] = response.json()
        except ValueError as e:
            raise RuntimeError(f"ASR server {self._url} sent a body that is not JSON: {response.text[:100]!r}") from e
        words = tuple(
            Word(
                str(w["word"]).strip(),
                min(t0 + float(w["start"]), end),
                min(t0 + float(w["end"]), end),
                float(w.get("probability", 1.0)),
            )
            for w in body_json.get("words") or ()
        )
        return Transcript(
            text=str(body_json.get("text", "")).strip(),
            start=t0,
            end=end,
            words=words,
            final=final,
            language=str(body_json.get("language") or self.settings.language),
        )

    def warm_up(self) -> None:
        """Nothing to load here: the server holds the model."""

    def close(self) -> None:
        self._client.close()


def make_transcriber(settings: AsrSettings) -> Transcriber:
    if settings.backend == "whisper-ct2":
        from perception.whisper_ct2 import CT2WhisperTranscriber

        return CT2WhisperTranscriber(settings)
    if settings.backend == "faster-whisper":
        return WhisperTranscriber(settings)
    if settings.backend == "openai":
        return OpenAITranscriber(settings)
    raise ValueError(f"unknown asr.backend {settings.backend!r}; expected 'whisper-ct2', 'faster-whisper' or 'openai'")
