"""Real speech for the perception tests: sentences synthesized once per session with the bundled hibari voice."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from floor import SAMPLE_RATE, float_to_int16, resample

SENTENCES = {
    "weather": "The weather was lovely this morning, so we walked along the river.",
    "question": "Could you tell me what time the museum opens tomorrow?",
    "long": (
        "Yesterday I finally finished reading the book my sister gave me. "
        "It was about a family that moves to a small village near the sea, "
        "and how they slowly learn to live with their new neighbours."
    ),
}


_EDGE = 0.003
"""Amplitude that counts as sound when trimming: the voice's silence is ~1e-7, its speech ~0.3."""


@pytest.fixture(scope="session")
def speak() -> Callable[[str], np.ndarray]:
    """``speak(key)`` -> 16 kHz int16 speech of ``SENTENCES[key]``, trimmed to the first and last audible
    sample (so a clip's ends are its speech boundaries), synthesized once and cached."""
    from hibari import SAMPLE_RATE as TTS_RATE, Hibari

    tts = Hibari()
    cache: dict[str, np.ndarray] = {}

    def _speak(key: str) -> np.ndarray:
        if key not in cache:
            audio = tts(SENTENCES[key], seed=0)
            audible = np.flatnonzero(np.abs(audio) > _EDGE)
            audio = audio[audible[0] : audible[-1] + 1]
            cache[key] = float_to_int16(resample(audio, TTS_RATE, SAMPLE_RATE))
        return cache[key]

    return _speak


@pytest.fixture(scope="session")
def sentences() -> dict[str, str]:
    """The texts ``speak`` says, by key (references for word error rates)."""
    return SENTENCES
