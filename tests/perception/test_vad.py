"""Streaming VAD: turn events from real speech, turns cut at max_turn_s, the two silero model layouts."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from floor import SAMPLE_RATE
from perception.settings import VadSettings
from perception.types import SilenceStarted, SpeechEnded, SpeechResumed, SpeechStarted
from perception.vad import WINDOW, Vad

TOL = 0.15


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


def run(vad: Vad, pcm: np.ndarray, t0: float = 0.0, piece: int = WINDOW) -> list[object]:
    events: list[object] = []
    for i in range(0, len(pcm), piece):
        events += vad.feed(pcm[i : i + piece], t0 + i / SAMPLE_RATE)
    return events


def of(kind: type, events: list[object]) -> list:
    return [e for e in events if isinstance(e, kind)]


def tone(seconds: float, amplitude: float = 0.5, hz: float = 200.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def energy_model(path: Path, inputs: tuple[str, ...] = ("input", "state", "sr")) -> Path:
    """A tiny ONNX model in the silero-vad package's layout whose 'speech probability' is loudness."""
    graph = helper.make_graph(
        [
            helper.make_node("Mul", [inputs[0], inputs[0]], ["sq"]),
            helper.make_node("ReduceMean", ["sq"], ["ms"], axes=[1], keepdims=1),
            helper.make_node("Mul", ["ms", "gain"], ["scaled"]),
            helper.make_node("Min", ["scaled", "one"], ["output"]),
            helper.make_node("Identity", [inputs[1]], ["stateN"]),
        ],
        "energy_vad",
        [
            helper.make_tensor_value_info(inputs[0], TensorProto.FLOAT, [1, 576]),
            helper.make_tensor_value_info(inputs[1], TensorProto.FLOAT, [2, 1, 128]),
            helper.make_tensor_value_info(inputs[2], TensorProto.INT64, []),
        ],
        [
            helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1]),
            helper.make_tensor_value_info("stateN", TensorProto.FLOAT, [2, 1, 128]),
        ],
        [helper.make_tensor("gain", TensorProto.FLOAT, [], [100.0]), helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def two_turns(speak) -> tuple[np.ndarray, list[tuple[float, float]]]:
    a, b = speak("weather"), speak("question")
    pcm = np.concatenate([silence(1.0), a, silence(1.5), b, silence(1.0)])
    a_end = 1.0 + len(a) / SAMPLE_RATE
    b_start = a_end + 1.5
    return pcm, [(1.0, a_end), (b_start, b_start + len(b) / SAMPLE_RATE)]


def test_two_utterances_apart_give_two_turns_at_their_boundaries(two_turns) -> None:
    pcm, truth = two_turns
    events = run(Vad(VadSettings()), pcm)
    starts, ends = of(SpeechStarted, events), of(SpeechEnded, events)
    assert len(starts) == 2 and len(ends) == 2
    for started, ended, (t_on, t_off) in zip(starts, ends, truth):
        assert started.t == pytest.approx(t_on, abs=TOL)
        assert ended.start == started.t
        assert ended.end == pytest.approx(t_off, abs=TOL)
    assert events.index(ends[0]) < events.index(starts[1])
    assert not any(hasattr(e, "audio") for e in events), "events carry times only: the session keeps the audio"


def test_short_pause_gives_silence_started_and_resumed_within_one_turn(speak) -> None:
    a, b = speak("question"), speak("weather")
    gap_start = 0.5 + len(a) / SAMPLE_RATE
    pcm = np.concatenate([silence(0.5), a, silence(0.35), b, silence(1.0)])
    settings = VadSettings(end_of_turn_silence_ms=600)
    events = run(Vad(settings), pcm)
    assert len(of(SpeechStarted, events)) == 1 and len(of(SpeechEnded, events)) == 1
    pauses = [e for e in of(SilenceStarted, events) if abs(e.t - gap_start) < TOL]
    assert len(pauses) == 1
    pause = pauses[0]
    assert pause.segment_start == of(SpeechStarted, events)[0].t
    resumed = [e for e in of(SpeechResumed, events) if e.t > pause.t]
    assert resumed and resumed[0].t == pytest.approx(gap_start + 0.35, abs=TOL)


def test_silence_low_noise_and_a_click_start_no_turn() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 60, 3 * SAMPLE_RATE).astype(np.int16)
    click = np.concatenate([silence(1.0), (rng.normal(0, 8000, SAMPLE_RATE // 10)).astype(np.int16), silence(1.0)])
    vad = Vad(VadSettings())
    for pcm in (silence(3.0), noise, click):
        assert run(vad, pcm) == []
        assert vad.flush(3.0) == []
        assert not vad.in_speech


def test_odd_sized_pieces_give_the_same_events_as_whole_windows(two_turns) -> None:
    pcm, _ = two_turns
    whole = run(Vad(VadSettings()), pcm, t0=10.0)
    odd = run(Vad(VadSettings()), pcm, t0=10.0, piece=333)
    assert [type(e) for e in odd] == [type(e) for e in whole] and whole
    for a, b in zip(whole, odd):
        for name in ("t", "start", "end", "segment_start"):
            if hasattr(a, name):
                assert getattr(b, name) == pytest.approx(getattr(a, name), abs=1e-9)


def test_flush_closes_an_open_turn_and_resets(speak) -> None:
    a = speak("question")
    vad = Vad(VadSettings())
    events = run(vad, np.concatenate([silence(0.5), a]), t0=2.0)
    assert of(SpeechStarted, events) and not of(SpeechEnded, events)
    assert vad.in_speech
    end_t = 2.5 + len(a) / SAMPLE_RATE
    (ended,) = vad.flush(end_t)
    assert isinstance(ended, SpeechEnded)
    assert ended.start == pytest.approx(2.5, abs=TOL) and ended.end == pytest.approx(end_t, abs=0.05)
    assert not vad.in_speech and vad.flush(end_t + 1) == []


def test_a_turn_longer_than_max_turn_is_cut_where_it_stands(tmp_path: Path) -> None:
    settings = VadSettings(model=str(energy_model(tmp_path / "energy.onnx")), max_turn_s=1.0, pre_roll_ms=100)
    vad = Vad(settings)
    events = run(vad, np.concatenate([silence(0.5), tone(3.5), silence(1.0)]))
    ended = of(SpeechEnded, events)
    assert len(ended) >= 2
    first = ended[0]
    assert first.start == pytest.approx(0.5, abs=0.04)
    assert first.end - first.start == pytest.approx(1.0, abs=0.04)
    assert all(e.end - e.start <= 1.0 + 0.04 for e in ended)


def test_silero_package_layout_drives_the_same_state_machine(tmp_path: Path) -> None:
    settings = VadSettings(model=str(energy_model(tmp_path / "energy.onnx")), min_speech_ms=160, end_of_turn_silence_ms=320)
    vad = Vad(settings)
    pcm = np.concatenate([silence(1.0), tone(0.064), silence(1.0), tone(1.0), silence(0.5)])
    events = run(vad, pcm)
    assert [type(e) for e in events] == [SpeechStarted, SilenceStarted, SpeechEnded], "the 64 ms blip starts no turn"
    assert events[0].t == pytest.approx(2.064, abs=0.04)
    assert events[2].end == pytest.approx(3.064, abs=0.04)
    assert vad.last_probability == 0.0


def test_bad_inputs_fail_with_a_message_naming_the_culprit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sample_rate=48000"):
        Vad(VadSettings(), sample_rate=48000)
    missing = tmp_path / "nope.onnx"
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        Vad(VadSettings(model=str(missing)))
    odd = energy_model(tmp_path / "odd.onnx", inputs=("x", "y", "z"))
    with pytest.raises(ValueError, match=r"odd\.onnx has inputs \['x', 'y', 'z'\]; expected"):
        Vad(VadSettings(model=str(odd)))
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(RuntimeError, match="cannot load VAD model .*garbage.onnx"):
        Vad(VadSettings(model=str(garbage)))
    with pytest.raises(ValueError, match="int16"):
        Vad(VadSettings()).feed(np.zeros(512, np.float32), 0.0)


def test_per_window_cost_is_tiny(two_turns) -> None:
    pcm, _ = two_turns
    vad = Vad(VadSettings())
    run(vad, pcm[: 10 * WINDOW])
    start = time.perf_counter()
    run(vad, pcm)
    per_window_ms = (time.perf_counter() - start) / (len(pcm) // WINDOW) * 1e3
    assert per_window_ms < 2.0, f"{per_window_ms:.3f} ms per 32 ms window"
