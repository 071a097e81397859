"""Rendering: the real hibari user voice laid out on a timeline with sample-accurate ground truth, cached."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.latency.render import SAMPLE_RATE, render, trim
from benchmarks.latency.scenario import parse_scenario

SCRIPT = """\
agent_latency 1.0
pause 0.5
user: Hello there.
hesitate 0.4
user: How are you?
pause 1.0
user: Fine.
interrupt after 0.5
user: Stop.
silence 2
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("cache")
    return render(parse_scenario(SCRIPT, "demo.txt"), cache), cache


def _speech_bounds(audio: np.ndarray, start_s: float, stop_s: float) -> tuple[float, float]:
    """First and last non-silent sample between two times (the renderer writes exact zeros elsewhere)."""
    a, b = round(start_s * SAMPLE_RATE), round(stop_s * SAMPLE_RATE)
    loud = np.flatnonzero(audio[a:b] != 0) + a
    return loud[0] / SAMPLE_RATE, (loud[-1] + 1) / SAMPLE_RATE


def test_ground_truth_is_where_the_speech_really_is(rendered) -> None:
    result, _ = rendered
    audio, sr = sf.read(str(result.media), dtype="int16")
    assert sr == SAMPLE_RATE and audio.ndim == 1
    truth = result.truth
    assert len(truth.turns) == 3 and len(audio) == round(truth.duration_s * SAMPLE_RATE)
    segments = [seg for turn in truth.turns for seg in turn.segments]
    befores = [0.0] + [b for _, b in segments]
    afters = [a for a, _ in segments[1:]] + [truth.duration_s]
    for (start, end), before, after in zip(segments, befores, afters):
        found = _speech_bounds(audio, before, after)
        assert abs(found[0] - start) <= 1 / SAMPLE_RATE
        assert abs(found[1] - end) <= 1 / SAMPLE_RATE
    assert truth.turns[0].start_s == 0.5


def test_hesitation_interrupt_and_silence_timing(rendered) -> None:
    truth = rendered[0].truth
    first, second, third = truth.turns
    assert len(first.segments) == 2 and first.text == "Hello there. How are you?"
    assert first.segments[1][0] - first.segments[0][1] == pytest.approx(0.4, abs=1e-4)
    assert second.start_s - first.end_s == pytest.approx(1.0, abs=1e-4)
    assert third.interrupt and not second.interrupt
    assert third.start_s - second.end_s == pytest.approx(1.0 + 0.5, abs=1e-4)
    assert truth.silences == ((third.end_s, pytest.approx(third.end_s + 2.0, abs=1e-4)),)


def test_render_is_cached_by_script_hash(rendered) -> None:
    result, cache = rendered

    def no_synth(text: str) -> np.ndarray:
        raise AssertionError("a cached scenario must not be synthesized again")

    again = render(parse_scenario(SCRIPT, "demo.txt"), cache, synth=no_synth)
    assert again.media == result.media and again.truth == result.truth
    with pytest.raises(AssertionError):
        render(parse_scenario(SCRIPT + "pause 1\n", "demo.txt"), cache, synth=no_synth)


def test_trim_and_layout_with_a_known_synth(tmp_path: Path) -> None:
    tone = np.concatenate([np.zeros(100), np.sin(np.arange(1600) / 5), np.zeros(50)]).astype(np.float32)
    assert len(trim(tone)) <= 1600 and len(trim(tone)) > 1500
    result = render(parse_scenario("pause 0.25\nuser: x\npause 0.5\n", "t.txt"), tmp_path, synth=lambda _: tone)
    turn = result.truth.turns[0]
    assert turn.start_s == 0.25  # trimmed speech starts exactly where the pause ends
    assert turn.end_s == pytest.approx(turn.start_s + len(trim(tone)) / SAMPLE_RATE, abs=1e-9)
