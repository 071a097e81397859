"""HibariTts: the bundled voice speaks a sentence as int16 at 24 kHz, deterministically, honouring the style."""
from __future__ import annotations

import numpy as np
import pytest

from speech.hibari_tts import HibariTts
from speech.settings import TtsSettings
from speech.types import Style

SENTENCE = "Thanks for telling me, that sounds really hard."


@pytest.fixture(scope="module")
def tts() -> HibariTts:
    t = HibariTts(TtsSettings())
    t.warm_up()
    return t


def test_speaks_a_sentence_as_int16_at_24k(tts: HibariTts) -> None:
    audio = tts.synthesize(SENTENCE, Style())
    assert tts.name == "hibari" and tts.sample_rate == 24000
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 1.5 < len(audio) / tts.sample_rate < 5.0
    assert np.abs(audio).max() > 1000


def test_same_text_gives_identical_audio(tts: HibariTts) -> None:
    assert np.array_equal(tts.synthesize(SENTENCE, Style()), tts.synthesize(SENTENCE, Style()))


def test_speed_shortens_and_volume_scales(tts: HibariTts) -> None:
    normal = tts.synthesize(SENTENCE, Style())
    fast = tts.synthesize(SENTENCE, Style(speed=1.5))
    slow = tts.synthesize(SENTENCE, Style(speed=0.7))
    assert len(fast) < 0.8 * len(normal) < len(normal) < 0.8 * len(slow)
    quiet = tts.synthesize(SENTENCE, Style(volume=0.5))
    assert np.abs(quiet).max() == pytest.approx(0.5 * np.abs(normal).max(), rel=0.02)


def test_a_huge_volume_is_limited_instead_of_clipping(tts: HibariTts) -> None:
    loud = tts.synthesize(SENTENCE, Style(volume=50.0))
    assert np.abs(loud.astype(np.int32)).max() <= 32767
    assert np.mean(np.abs(loud.astype(np.int32)) >= 32767) < 0.001


def test_empty_text_gives_no_samples(tts: HibariTts) -> None:
    out = tts.synthesize("", Style())
    assert out.dtype == np.int16 and len(out) == 0


def test_bad_style_is_refused(tts: HibariTts) -> None:
    with pytest.raises(ValueError, match="speed"):
        tts.synthesize(SENTENCE, Style(speed=3.0))
    with pytest.raises(ValueError, match="style asks for 'emma'"):
        tts.synthesize(SENTENCE, Style(voice="emma"))


def test_voices_not_in_the_package_are_refused_offline(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("HIBARI_HOME", str(tmp_path))  # an empty cache: nothing downloaded before
    with pytest.raises(ValueError, match="only bundled voices work offline"):
        HibariTts(TtsSettings(voice="emma"))
    with pytest.raises(ValueError, match="unknown voice 'nobody'.*heart"):
        HibariTts(TtsSettings(voice="nobody"))
