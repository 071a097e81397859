"""Smart Turn v3.2 unpacked from the pipecat-ai wheel: found in the model cache with pipecat not installed, Pipecat's
features, real scores, and one-line errors for a missing file or a model of the wrong shape."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from floor import SAMPLE_RATE
from floor.cache import models_dir
from perception.end_of_turn import SmartTurn, bundled_model_path
from perception.settings import EndOfTurnSettings

PAUSE = np.zeros(SAMPLE_RATE // 5, np.int16)
"""200 ms of silence: where Pipecat runs the model."""


@pytest.fixture(scope="module")
def smart_turn() -> SmartTurn:
    model = SmartTurn(EndOfTurnSettings())
    model.warm_up()
    return model


def test_the_bundled_file_is_the_one_unpacked_into_the_model_cache_and_pipecat_is_not_installed() -> None:
    path = bundled_model_path()
    assert path == models_dir() / "pipecat-ai-1.14.0" / "smart-turn-v3.2-cpu.onnx"
    assert path.stat().st_size == 8_679_182 and (path.parent / "LICENSE").read_text().startswith("BSD 2-Clause")
    assert importlib.util.find_spec("pipecat") is None


def test_features_match_pipecats_own_extractor(smart_turn, speak) -> None:
    reference_path = bundled_model_path().with_name("_whisper_features.py")
    spec = importlib.util.spec_from_file_location("pipecat_whisper_features", reference_path)
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)  # Pipecat's extractor, unpacked beside the model: numpy only
    pcm = speak("weather")
    audio = pcm.astype(np.float32) / 32768.0
    padded = np.pad(audio, (8 * SAMPLE_RATE - len(audio), 0))
    expected = reference.compute_whisper_log_mel_features(padded, do_normalize=True)
    ours = smart_turn.features(pcm)
    assert ours.shape == (80, 800)
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    long = np.tile(pcm, 4)  # > 8 s: only the last 8 s count
    np.testing.assert_array_equal(smart_turn.features(long), smart_turn.features(long[-8 * SAMPLE_RATE:]))


def test_a_finished_sentence_scores_above_the_same_one_cut_mid_clause(smart_turn, speak) -> None:
    # One synthesis, cut: a TTS voice reads every fragment synthesized alone as finished.
    pcm = speak("weather")  # "The weather was lovely this morning, so we walked along the river."
    finished = smart_turn.score(np.concatenate([pcm, PAUSE]))
    cuts = [smart_turn.score(np.concatenate([pcm[: int(len(pcm) * f)], PAUSE])) for f in (0.65, 0.75)]
    assert finished > 0.5, finished
    assert all(c < 0.2 for c in cuts) and finished > max(cuts) + 0.3, (finished, cuts)


def test_scores_are_probabilities_and_the_input_must_be_int16(smart_turn) -> None:
    assert 0.0 <= smart_turn.score(np.zeros(0, np.int16)) <= 1.0
    assert 0.0 <= smart_turn.score(np.zeros(SAMPLE_RATE, np.int16)) <= 1.0
    with pytest.raises(ValueError, match="Smart Turn needs 1-D int16 .* float32"):
        smart_turn.score(np.zeros(SAMPLE_RATE, np.float32))


def test_a_missing_model_file_fails_in_one_line_naming_make_install(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HUMANSENSE_CACHE", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError) as info:
        SmartTurn(EndOfTurnSettings())
    message = str(info.value)
    assert message.startswith(f"smart-turn-v3.2-cpu.onnx not found in {tmp_path / 'empty' / 'models' / 'pipecat-ai-1.14.0'}")
    assert "run `make install`" in message and "pipecat-ai==1.14.0 wheel" in message and "\n" not in message
    with pytest.raises(FileNotFoundError, match=f"Smart Turn model not found: {tmp_path / 'x.onnx'}"):
        SmartTurn(EndOfTurnSettings(model=str(tmp_path / "x.onnx")))


def _tiny_onnx(path: Path, frames: int, scalar_out: bool) -> Path:
    """A model averaging its [batch, 80, frames] input: to [batch, 1] when ``scalar_out``, else to [batch, 80]."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input_features", TensorProto.FLOAT, ["batch", 80, frames])
    nodes = [helper.make_node("ReduceMean", ["input_features"], ["mean"], axes=[2], keepdims=0)]
    if scalar_out:
        nodes.append(helper.make_node("ReduceMean", ["mean"], ["logits"], axes=[1], keepdims=1))
    else:
        nodes[0].output[0] = "logits"
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1] if scalar_out else ["batch", 80])
    model = helper.make_model(helper.make_graph(nodes, "tiny", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_model_of_the_wrong_shape_fails_in_one_line_naming_the_package(tmp_path: Path) -> None:
    messages = []
    for wrong in (_tiny_onnx(tmp_path / "frames.onnx", 400, True), _tiny_onnx(tmp_path / "out.onnx", 800, False)):
        with pytest.raises(ValueError) as info:
            SmartTurn(EndOfTurnSettings(model=str(wrong)))
        messages.append(str(info.value))
        assert f"{wrong} is not a Smart Turn v3 model (package pipecat-ai)" in messages[-1] and "\n" not in messages[-1]
        assert "expected input float [batch, 80, 800] and output [batch, 1]" in messages[-1]
    assert "got inputs input_features tensor(float) ['batch', 80, 400]" in messages[0]
    assert "outputs logits tensor(float) ['batch', 80]" in messages[1]
    right = SmartTurn(EndOfTurnSettings(model=str(_tiny_onnx(tmp_path / "right.onnx", 800, True))))
    assert isinstance(right.score(np.zeros(SAMPLE_RATE, np.int16)), float)


def test_an_unreadable_file_fails_in_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(RuntimeError, match=r"cannot load Smart Turn model .*junk.onnx \(package pipecat-ai\)") as info:
        SmartTurn(EndOfTurnSettings(model=str(junk)))
    assert "\n" not in str(info.value)
