"""Speech recognition of one turn's audio: the backend factory, faster-whisper, an OpenAI-compatible server, WER."""
from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import httpx
import numpy as np

from perception.audio import int16_to_float, wav_bytes
from perception.settings import AsrSettings
from perception.transcriber import (MIN_AUDIO_S, Transcriber, check_pcm, duration, empty_transcript, first_line,
                                    resolve_whisper_model)
from perception.types import SAMPLE_RATE, Transcript, Word

logger = logging.getLogger(__name__)


class WhisperTranscriber:
    """faster-whisper in this process: it pads every call to a 30 s window (~0.3-0.9 s on 2 CPU cores whatever the
    length); ``transcribe`` is a blocking call (run it in an executor)."""

    def __init__(self, settings: AsrSettings) -> None:
        from faster_whisper import WhisperModel

        self.settings = settings
        self.name = f"faster-whisper:{settings.model}"
        path = resolve_whisper_model(settings.model)
        started = time.perf_counter()
        try:
            self.model = WhisperModel(
                path, device=settings.device, compute_type=settings.compute_type, cpu_threads=settings.cpu_threads
            )
        except Exception as e:  # CTranslate2 and the hub client raise many types; all mean "cannot load"
            raise RuntimeError(f"cannot load Whisper model {settings.model!r} ({path}): {first_line(e)}") from e
        self.load_seconds = time.perf_counter() - started
        self._language = None if settings.language in ("", "auto") else settings.language
        logger.info("loaded %s in %.2f s", self.name, self.load_seconds)

    def transcribe(self, pcm: np.ndarray, t0: float = 0.0, final: bool = True) -> Transcript:
        """Words carry absolute times (``t0`` + offset in ``pcm``), clamped to the clip."""
        check_pcm(pcm)
        end = t0 + duration(pcm)
        if duration(pcm) < MIN_AUDIO_S:
            return empty_transcript(pcm, t0, final, self.settings.language)
        segments, info = self.model.transcribe(
            int16_to_float(pcm),
            language=self._language,
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        texts: list[str] = []
        words: list[Word] = []
        for segment in segments:
            texts.append(segment.text.strip())
            for w in segment.words or ():
                w_start = min(max(t0 + float(w.start), t0), end)
                w_end = min(max(t0 + float(w.end), w_start), end)
                words.append(Word(w.word.strip(), w_start, w_end, float(w.probability)))
        return Transcript(
            text=" ".join(t for t in texts if t),
            start=t0,
            end=end,
            words=tuple(words),
            final=final,
            language=info.language,
        )

    def warm_up(self) -> None:
        """One tiny call so the first real call does not pay for lazy initialisation."""
        self.transcribe(np.zeros(SAMPLE_RATE // 2, np.int16))


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
            raise RuntimeError(f"ASR server {self._url} unreachable: {type(e).__name__}: {first_line(e)}") from e
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


_PUNCT = re.compile(r"[^\w\s']")


def normalize_words(text: str) -> list[str]:
    """Lower case, punctuation dropped (apostrophes kept), hyphens split."""
    return _PUNCT.sub(" ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after :func:`normalize_words`."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        return float(bool(hyp))
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev_diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev_diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev_diag + (r != h))
    return row[-1] / len(ref)
