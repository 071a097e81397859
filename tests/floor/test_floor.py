"""The floor below the stages: one sample rate, one int16/float conversion, one resampler, one error line."""
from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import numpy as np
import pytest

from floor import INT16_SCALE, SAMPLE_RATE, error_line, float_to_int16, int16_to_float, one_line, resample

ROOT = Path(__file__).resolve().parents[2]


def tone(hz: float, rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def peak_hz(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64) * np.hanning(len(audio))))
    return float(np.argmax(spectrum) * rate / len(audio))


def test_int16_to_float_and_back_is_exact_and_full_scale_is_minus_one() -> None:
    pcm = np.array([-32768, -1, 0, 1, 32767], np.int16)
    x = int16_to_float(pcm)
    assert x.dtype == np.float32
    assert x[0] == -1.0 and 0 < 1.0 - x[-1] < 1 / INT16_SCALE * 1.01
    np.testing.assert_array_equal(float_to_int16(x), pcm)


def test_float_to_int16_rounds_and_clips_instead_of_wrapping() -> None:
    out = float_to_int16(np.array([0.0, 0.5, -1.0, 1.0, 1.5, -3.0, 0.25 / INT16_SCALE]))
    assert out.dtype == np.int16
    assert out.tolist() == [0, 16384, -32768, 32767, 32767, -32768, 0]


def test_conversions_refuse_the_wrong_dtype_naming_it() -> None:
    with pytest.raises(ValueError, match="int16 PCM, got dtype float64"):
        int16_to_float(np.zeros(3))
    with pytest.raises(ValueError, match="float audio, got dtype int16"):
        float_to_int16(np.zeros(3, np.int16))


@pytest.mark.parametrize(("from_rate", "to_rate"), [(24000, SAMPLE_RATE), (SAMPLE_RATE, 48000), (22050, SAMPLE_RATE)])
def test_resample_keeps_dtype_and_pitch_and_scales_the_length(from_rate: int, to_rate: int) -> None:
    x = tone(440, from_rate)
    for given in (x, x.astype(np.float64), float_to_int16(x)):
        y = resample(given, from_rate, to_rate)
        assert y.dtype == given.dtype
        assert len(y) == pytest.approx(to_rate, abs=1)
        assert peak_hz(y, to_rate) == pytest.approx(440, abs=2)
    level = np.sqrt(np.mean(resample(x, from_rate, to_rate)[500:-500].astype(np.float64) ** 2))
    assert level == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_resample_at_the_same_rate_or_of_nothing_returns_a_copy() -> None:
    x = tone(440, SAMPLE_RATE, 0.1)
    same = resample(x, SAMPLE_RATE, SAMPLE_RATE)
    assert same is not x
    np.testing.assert_array_equal(same, x)
    assert resample(np.zeros(0, np.int16), 24000, SAMPLE_RATE).dtype == np.int16


def test_resample_refuses_bad_rates_stereo_and_other_dtypes_naming_them() -> None:
    with pytest.raises(ValueError, match="0 -> 16000"):
        resample(np.zeros(10, np.float32), 0, SAMPLE_RATE)
    with pytest.raises(ValueError, match=r"mono.*\(10, 2\)"):
        resample(np.zeros((10, 2), np.float32), 48000, SAMPLE_RATE)
    with pytest.raises(ValueError, match="int16 or float audio, got dtype int32"):
        resample(np.zeros(10, np.int32), 48000, SAMPLE_RATE)


def test_one_line_collapses_whitespace_and_cuts_with_an_ellipsis() -> None:
    assert one_line("  a\n\tb   c ") == "a b c"
    assert one_line("abcdef", 4) == "abc…"
    assert one_line("abcd", 4) == "abcd"


@pytest.mark.parametrize(("exc", "plain", "typed"), [
    (OSError("no such device\n  (hw:1)"), "no such device (hw:1)", "OSError: no such device (hw:1)"),
    (ValueError("bad frame"), "bad frame", "ValueError: bad frame"),
    (KeyError("choices"), "KeyError: 'choices'", "KeyError: 'choices'"),
    (RuntimeError(), "RuntimeError", "RuntimeError"),
    (TimeoutError(), "TimeoutError", "TimeoutError"),
])
def test_error_line_names_the_type_where_the_message_alone_would_not_or_when_asked(
        exc: BaseException, plain: str, typed: str) -> None:
    assert error_line(exc) == plain
    assert error_line(exc, typed=True) == typed


def numbers_equal_to(value: int, source: str) -> list[int]:
    """Lines where a number token (any spelling: 16000, 16_000, 16e3) equals ``value``; comments and strings don't count."""
    lines = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NUMBER and not token.string.endswith(("j", "J")) and ast.literal_eval(token.string) == value:
            lines.append(token.start[0])
    return lines


def test_the_sample_rate_is_written_once_outside_the_tests() -> None:
    places = [f"{path.relative_to(ROOT)}:{line}"
              for path in sorted(ROOT.rglob("*.py"))
              if not {"tests", ".venv", ".git"} & set(path.relative_to(ROOT).parts[:1])
              for line in numbers_equal_to(SAMPLE_RATE, path.read_text(encoding="utf-8"))]
    assert [place.split(":")[0] for place in places] == ["floor/__init__.py"], \
        f"write floor.SAMPLE_RATE instead of the number at: {places}"
