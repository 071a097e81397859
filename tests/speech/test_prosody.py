"""style_for: each agent emotion gets its own speaking rate and volume around the configured base."""
from __future__ import annotations

import logging

import pytest

from speech.prosody import EMOTION_PROSODY, base_style, style_for
from speech.settings import TtsSettings
from speech.types import Style

# The names dialogue.types.AGENT_EMOTIONS holds; speech may not import dialogue, so they are spelled out here.
AGENT_EMOTIONS = ("neutral", "warm", "happy", "excited", "calm", "sad", "concerned", "apologetic", "curious")


@pytest.mark.parametrize("emotion", AGENT_EMOTIONS)
def test_every_agent_emotion_has_a_style(emotion: str) -> None:
    style = style_for(emotion, TtsSettings())
    assert emotion in EMOTION_PROSODY
    assert style.emotion == emotion
    assert 0.5 <= style.speed <= 2.0 and 0.05 <= style.volume <= 2.0
    assert style.voice == TtsSettings().voice


def test_the_table_holds_exactly_the_agent_emotions() -> None:
    assert set(EMOTION_PROSODY) == set(AGENT_EMOTIONS)


def test_sad_and_calm_are_slower_and_softer_than_excited() -> None:
    s = TtsSettings()
    excited, sad, calm, neutral = (style_for(e, s) for e in ("excited", "sad", "calm", "neutral"))
    assert sad.speed < neutral.speed < excited.speed
    assert sad.volume < neutral.volume < excited.volume
    assert calm.speed < neutral.speed and calm.volume < neutral.volume


def test_multipliers_apply_to_the_configured_base() -> None:
    slow = style_for("excited", TtsSettings(speed=0.8, volume=0.5))
    fast = style_for("excited", TtsSettings(speed=1.2, volume=1.0))
    assert slow.speed == pytest.approx(0.8 * EMOTION_PROSODY["excited"][0])
    assert slow.volume == pytest.approx(0.5 * EMOTION_PROSODY["excited"][1])
    assert fast.speed / slow.speed == pytest.approx(1.5)


def test_results_stay_within_the_synthesizer_range() -> None:
    assert style_for("excited", TtsSettings(speed=2.0, volume=2.0)) == Style(2.0, 2.0, "heart", "excited")


def test_disabled_prosody_returns_the_base_style() -> None:
    s = TtsSettings(emotion_prosody=False, speed=1.1, volume=0.7)
    for emotion in AGENT_EMOTIONS:
        assert style_for(emotion, s) == base_style(s) == Style(1.1, 0.7, "heart", "neutral")


def test_unknown_emotion_speaks_neutral_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="speech.prosody"):
        style = style_for("furious", TtsSettings())
    assert style == style_for("neutral", TtsSettings())
    assert "furious" in caplog.text


def test_emotion_names_are_matched_case_insensitively() -> None:
    assert style_for(" Sad ", TtsSettings()) == style_for("sad", TtsSettings())
