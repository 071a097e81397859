"""Whisper through faster-whisper in this process: the whole-window backend (and the loader whisper-ct2 builds on)."""
from __future__ import annotations

import logging
import time

import numpy as np

from floor import SAMPLE_RATE, error_line, int16_to_float
from perception.settings import AsrSettings
from perception.transcriber import (MIN_AUDIO_S, check_pcm, duration, empty_transcript,
                                    resolve_whisper_model)
from perception.types import Transcript, Word

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
            raise RuntimeError(f"cannot load Whisper model {settings.model!r} ({path}): {error_line(e)}") from e
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
