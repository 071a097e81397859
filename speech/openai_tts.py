"""Text-to-speech through an OpenAI-compatible `/v1/audio/speech` server (WAV responses, resampled to 24 kHz)."""
from __future__ import annotations

import io
import logging
import os

import httpx
import numpy as np
import soundfile as sf

from floor import error_line, resample
from speech.settings import TtsSettings
from speech.transform import apply_gain
from speech.types import Style

logger = logging.getLogger(__name__)


class OpenAITts:
    """POSTs one sentence per request; returns int16 mono at ``sample_rate`` whatever rate the server sends."""

    name = "openai"
    sample_rate = 24000

    def __init__(self, settings: TtsSettings) -> None:
        self.url = settings.base_url.rstrip("/") + "/audio/speech"
        self.model = settings.model
        self.voice = settings.voice
        key = os.environ.get(settings.api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=settings.timeout_s, headers=headers)

    def synthesize(self, sentence: str, style: Style) -> np.ndarray:
        """int16 mono samples of ``sentence``; the server applies the speed, the gain is applied here."""
        body = {"model": self.model, "input": sentence, "voice": style.voice or self.voice,
                "response_format": "wav", "speed": style.speed}
        try:
            response = self._client.post(self.url, json=body)
        except httpx.TimeoutException:
            raise RuntimeError(f"openai tts: {self.url} did not answer within {self._client.timeout.read} s") from None
        except httpx.HTTPError as e:
            raise RuntimeError(f"openai tts: cannot reach {self.url} ({error_line(e, typed=True)})") from None
        if response.status_code >= 400:
            detail = " ".join(response.text.split())[:200]
            raise RuntimeError(f"openai tts: {self.url} answered HTTP {response.status_code}: {detail}")
        try:
            audio, rate = sf.read(io.BytesIO(response.content), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, TypeError) as e:
            raise RuntimeError(f"openai tts: {self.url} did not return readable WAV audio ({e})") from None
        mono = audio.mean(axis=1)
        return apply_gain(resample(mono, int(rate), self.sample_rate), style.volume)

    def warm_up(self) -> None:
        """One short request: opens the connection and surfaces a wrong URL or key at start-up."""
        self.synthesize("Hello.", Style(voice=self.voice))

    def close(self) -> None:
        self._client.close()
