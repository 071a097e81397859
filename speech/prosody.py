"""Emotion to speaking style: how fast and how loud the agent speaks for each emotion it may show."""
from __future__ import annotations

import logging

from speech.settings import TtsSettings
from speech.types import Style

logger = logging.getLogger(__name__)

# (speed, volume) multipliers on the configured base; keyed by the names of dialogue.types.AGENT_EMOTIONS.
# Arousal drives both: excited is fastest and loudest, sad slowest and softest.
EMOTION_PROSODY: dict[str, tuple[float, float]] = {
    "neutral": (1.00, 1.00),
    "warm": (0.96, 0.97),
    "happy": (1.06, 1.05),
    "excited": (1.14, 1.12),
    "calm": (0.91, 0.88),
    "sad": (0.86, 0.82),
    "concerned": (0.94, 0.93),
    "apologetic": (0.92, 0.88),
    "curious": (1.04, 1.00),
}

_SPEED_RANGE = (0.5, 2.0)
_VOLUME_RANGE = (0.05, 2.0)


def base_style(settings: TtsSettings) -> Style:
    """The configured voice, speed and volume with no emotional colouring."""
    return Style(speed=settings.speed, volume=settings.volume, voice=settings.voice, emotion="neutral")


def style_for(emotion: str, settings: TtsSettings) -> Style:
    """The style to speak with when showing ``emotion``; unknown names fall back to neutral (logged)."""
    if not settings.emotion_prosody:
        return base_style(settings)
    name = emotion.strip().lower()
    if name not in EMOTION_PROSODY:
        logger.warning("unknown agent emotion %r; speaking it as neutral", emotion)
        name = "neutral"
    speed_k, volume_k = EMOTION_PROSODY[name]
    return Style(
        speed=min(max(settings.speed * speed_k, _SPEED_RANGE[0]), _SPEED_RANGE[1]),
        volume=min(max(settings.volume * volume_k, _VOLUME_RANGE[0]), _VOLUME_RANGE[1]),
        voice=settings.voice,
        emotion=name,
    )
