"""Hibari text-to-speech (Apache-2.0, voice "heart" bundled): the default offline synthesizer."""
from __future__ import annotations

import logging
import os

import numpy as np

from speech.settings import TtsSettings
from speech.transform import apply_gain
from speech.types import Style

logger = logging.getLogger(__name__)


class HibariTts:
    """One hibari voice loaded once; ``synthesize`` turns one sentence into int16 samples at 24 kHz."""

    name = "hibari"

    def __init__(self, settings: TtsSettings) -> None:
        from hibari import Hibari
        from hibari.voices import VOICES, voice_path

        voice = settings.voice
        if voice not in VOICES:
            raise ValueError(f"hibari: unknown voice {voice!r}; the bundled voices are: {', '.join(_bundled(VOICES))}")
        try:
            # Never download: a voice that is neither bundled nor already cached fails here, not mid-conversation.
            model = voice_path(voice, download_missing=False)
        except FileNotFoundError:
            raise ValueError(f"hibari: voice {voice!r} is not bundled and only bundled voices work offline "
                             f"({', '.join(_bundled(VOICES))})") from None
        if not os.path.exists(model):
            raise FileNotFoundError(f"hibari: voice model {model} is missing")
        self._tts = Hibari(voice=voice, model=model, threads=settings.threads)
        self.voice = voice
        self.sample_rate: int = int(self._tts.sample_rate)
        self._seed = settings.seed
        logger.info("hibari voice %r loaded (%d Hz, %d thread(s))", voice, self.sample_rate, settings.threads)

    def synthesize(self, sentence: str, style: Style) -> np.ndarray:
        """int16 mono samples of ``sentence`` spoken at ``style.speed`` and scaled by ``style.volume``."""
        if style.voice not in (None, self.voice):
            raise ValueError(f"hibari: loaded voice is {self.voice!r}, style asks for {style.voice!r}")
        if not 0.5 <= style.speed <= 2.0:
            raise ValueError(f"hibari: speed must be within 0.5..2.0, got {style.speed}")
        audio = self._tts(sentence, speed=style.speed, seed=self._seed)
        return apply_gain(audio, style.volume)

    def warm_up(self) -> None:
        """Load the G2P dictionaries (the first call costs ~0.3 s) before the first real sentence."""
        self._tts("Hello there.", seed=self._seed)


def _bundled(voices: dict[str, dict]) -> list[str]:
    return [name for name, v in voices.items() if v.get("bundled")]

