"""The TTS factory (settings to backend) and a latency / real-time-factor measurement of any backend."""
from __future__ import annotations

import logging
import statistics
import time

from speech.settings import TtsSettings
from speech.types import Style, Tts

logger = logging.getLogger(__name__)


def make_tts(settings: TtsSettings) -> Tts:
    """The backend named by ``settings.backend``, loaded and ready (call ``warm_up`` before the first turn)."""
    if settings.backend == "hibari":
        from speech.hibari_tts import HibariTts
        return HibariTts(settings)
    if settings.backend == "piper":
        from speech.piper_tts import PiperTts
        return PiperTts(settings)
    if settings.backend == "openai":
        from speech.openai_tts import OpenAITts
        return OpenAITts(settings)
    raise ValueError(f"unknown tts backend {settings.backend!r}; choose hibari, piper or openai")


def benchmark_tts(tts: Tts, sentences: list[str], runs: int = 5, style: Style | None = None) -> dict[str, float]:
    """Warm latency of the first sentence and real-time factor over all of them, each the median of ``runs``.

    first_audio_ms: time to synthesize ``sentences[0]`` (a sentence-at-a-time TTS can play once it returns);
    rtf: synthesis seconds per second of audio over all sentences (< 1 is faster than real time).
    """
    if not sentences:
        raise ValueError("benchmark_tts needs at least one sentence")
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    style = style or Style()
    tts.warm_up()
    first_ms: list[float] = []
    rtfs: list[float] = []
    audio_s = 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        tts.synthesize(sentences[0], style)
        first_ms.append((time.perf_counter() - t0) * 1e3)
        samples = 0
        t0 = time.perf_counter()
        for sentence in sentences:
            samples += len(tts.synthesize(sentence, style))
        elapsed = time.perf_counter() - t0
        audio_s = samples / tts.sample_rate
        if audio_s <= 0:
            raise RuntimeError(f"{tts.name}: produced no audio for the benchmark sentences")
        rtfs.append(elapsed / audio_s)
    rtf = statistics.median(rtfs)
    result = {"first_audio_ms": statistics.median(first_ms), "rtf": rtf, "x_realtime": 1.0 / rtf,
              "audio_s": audio_s, "sentences": float(len(sentences)), "runs": float(runs)}
    logger.info("%s: first audio %.1f ms, rtf %.4f (%.0fx real time)", tts.name, result["first_audio_ms"], rtf,
                result["x_realtime"])
    return result
