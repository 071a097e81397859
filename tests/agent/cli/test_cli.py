"""The command line: complete help; bad input is one line and exit code 2, found before any model loads and leaving
no files behind; a stop signal's exit code (130 SIGINT, 143 SIGTERM) whatever the outputs; outputs that survive
a second signal or kill -9 as readable ``.partial`` files; the doctor's checks."""
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent.cli.main import _print_summary, build_parser, main
from agent.cli.signals import Interrupted, run_until_signalled, stop_on_signals

COMMANDS = ["replay", "run", "demo", "doctor", "serve", "eval", "score", "report", "bench", "empathy"]


def test_every_command_is_there_with_complete_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    top = capsys.readouterr().out
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in COMMANDS:
        assert name in top
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        assert "usage: humansense " + name in text
        first = commands[name].description.split(". ")[0]
        assert first[0].isupper() and len(first.split()) >= 6, (name, first)     # says what it does in a sentence
        assert f"\nexample: humansense {name} " in text, name
    assert {a.dest for a in build_parser()._subparsers._group_actions[0].choices["replay"]._actions} >= {
        "media", "pace", "config", "set", "record", "out", "quiet"}


def test_the_version_comes_from_the_package_metadata(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"humansense {version('humansense')}\n"


@pytest.mark.parametrize("argv, expected", [
    (["replay"], "the following arguments are required: media (see: humansense replay --help)"),
    (["eval", "--data", "x.json"], "the following arguments are required: --backend, --name, --out "
                                   "(see: humansense eval --help)"),
    (["bench", "--out", "x", "--suite", "huge"], "argument --suite: invalid choice: 'huge' (choose from 'quick', 'full') "
                                                "(see: humansense bench --help)"),
    (["nonsense"], "argument COMMAND: invalid choice: 'nonsense'"),
])
def test_usage_errors_are_one_humansense_error_line_naming_the_culprit(capsys, argv, expected):
    with pytest.raises(SystemExit) as done:
        main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.startswith("humansense: error: ") and err.count("\n") == 1
    assert expected in err


def test_every_command_caches_in_the_one_humansense_cache():
    from floor.cache import cache_root

    commands = build_parser()._subparsers._group_actions[0].choices
    defaults = {name: commands[name].get_default(key) for name, key in (("demo", "cache"), ("eval", "cache_dir"), ("bench", "cache"))}
    assert all(Path(d).parent == cache_root() for d in defaults.values()), defaults
    assert len(set(defaults.values())) == 3                     # each its own folder inside it


def test_live_run_without_audio_devices_is_one_clear_line(capsys):
    code = main(["run", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "PyAudio" in err or "no audio input device" in err


# ---- bad input: one line, exit 2, nothing loaded, nothing left behind ----------------------------------------------

@pytest.fixture
def tone(tmp_path) -> Path:
    path = tmp_path / "tone.wav"
    sf.write(path, (0.2 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 220) * 32767).astype(np.int16), 16000)
    return path


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """The heavy model loads replaced by a recorder: which thread asked for them (none, when input is refused first)."""
    calls: list[str] = []

    def load(*args):
        calls.append(threading.current_thread().name)
        raise RuntimeError("models are not loaded in this test")

    monkeypatch.setattr("agent.runtime.lanes.make_transcriber", load)
    return calls


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("humansense: error: ")
    return err


@pytest.mark.parametrize("option, value, expected", [
    ("--out", "{file}/out", "--out {file}/out: {file} is a file, not a folder"),
    ("--out", "{file}", "--out {file}: {file} is a file, not a folder"),
    ("--record", "{file}/x/rec.wav", "--record {file}/x/rec.wav: {file} is a file, not a folder"),
    ("--record", "{tmp}", "--record {tmp}: is a folder; name a .wav file"),
    ("--record", "/sys/rec.wav", "--record /sys/rec.wav: cannot write in /sys"),   # sysfs refuses even root
])
def test_unwritable_outputs_are_refused_before_any_model_loads(tmp_path, tone, loads, capsys, option, value, expected):
    file = tmp_path / "a-file"
    file.write_text("not a folder")
    fill = {"file": file, "tmp": tmp_path}
    before = sorted(tmp_path.rglob("*"))
    assert main(["replay", str(tone), "--quiet", option, value.format(**fill)]) == 2
    assert expected.format(**fill) in one_error_line(capsys)
    assert loads == [] and sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("setting", ["face.detector=onnx", "expression.backend=onnx"])
@pytest.mark.parametrize("model", ["missing", "junk", "folder"])
def test_a_bad_onnx_model_is_one_line_naming_it_and_leaves_no_partial_files(tmp_path, tone, loads, capsys,
                                                                            setting, model):
    key = setting.split(".")[0] + ".onnx_path"
    path = tmp_path / ("models" if model == "folder" else f"{model}.onnx")
    if model == "junk":
        path.write_bytes(b"this is not an onnx model" * 10)
    elif model == "folder":
        path.mkdir()
    out = tmp_path / "out"
    code = main(["replay", str(tone), "--quiet", "--out", str(out), "--record", str(out / "rec.wav"),
                 "--set", setting, "--set", f"{key}={path}"])
    assert code == 2
    assert f"{key}: {path}: " in one_error_line(capsys)
    assert loads == []                                          # refused before the heavy models
    assert not out.exists()


def test_any_exception_a_model_loader_raises_is_one_line_and_loading_is_off_the_loop(tone, monkeypatch, capsys):
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail   # not an OSError, ValueError or RuntimeError

    threads = []

    def load(cfg):
        threads.append(threading.current_thread())
        raise Fail("[ONNXRuntimeError] : 1 : FAIL : Non-zero status code\nreturned while running Reshape node")

    monkeypatch.setattr("agent.runtime.lanes.Models.load", load)
    assert main(["replay", str(tone), "--quiet", "--set", "end_of_turn.model=/models/turn.onnx"]) == 2
    err = one_error_line(capsys)
    assert "loading models failed: Fail: [ONNXRuntimeError] : 1 : FAIL : Non-zero status code returned" in err
    assert "end_of_turn.model=/models/turn.onnx" in err          # the model the user chose is named
    assert threads and threads[0] is not threading.main_thread()


@pytest.mark.slow
def test_a_model_that_fails_in_onnxruntime_while_warming_up_is_one_line(tmp_path, tone, capsys):
    import onnx
    from onnx import TensorProto, helper

    # Smart Turn's input and output shapes, but a Reshape that only fails when it runs (at warm-up).
    x = helper.make_tensor_value_info("input_features", TensorProto.FLOAT, ["batch", 80, 800])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1])
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["input_features", "shape"], ["r"]),
         helper.make_node("ReduceMean", ["r"], ["logits"], axes=[1], keepdims=1)],
        "broken_turn", [x], [y], initializer=[helper.make_tensor("shape", TensorProto.INT64, [2], [7, -1])])
    model = tmp_path / "turn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(model))
    out = tmp_path / "out"
    assert main(["replay", str(tone), "--quiet", "--out", str(out), "--set", f"end_of_turn.model={model}"]) == 2
    assert f"end_of_turn.model={model}" in one_error_line(capsys) and not out.exists()


def test_the_summary_of_a_session_without_answers_says_so(capsys):
    class Result:
        metrics = {"stage_ms": {}, "loop_lag_ms": {"p99": 1.5}, "rss_mb_peak": 300}

    _print_summary({"result": Result(), "turns": [{"user_text": "hi"}], "written": []})
    out = capsys.readouterr().out
    assert "1 turns, 0 answered · no answers · loop lag p99 1.5 ms · peak RSS 300 MB" in out and "nan" not in out


# ---- stop signals -------------------------------------------------------------------------------------------------

def test_the_first_signal_asks_to_stop_and_its_code_is_the_exit_code():
    async def run() -> str:
        stop = asyncio.Event()
        stop_on_signals(stop.set)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(stop.wait(), 5)
        return "wound down"

    value, stops = run_until_signalled(run())
    assert value == "wound down" and stops.signal == signal.SIGINT and stops.exit_code == 130


def test_a_second_signal_stops_at_once():
    asked = []

    async def run() -> None:
        stop_on_signals(lambda: asked.append("stop"))   # asked to stop … and slow to do it
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(30)

    started = time.monotonic()
    with pytest.raises(Interrupted) as err:
        run_until_signalled(run())
    assert asked == ["stop"] and time.monotonic() - started < 5
    assert err.value.exit_code == 143 and str(err.value) == "interrupted by SIGTERM"   # the first signal's code


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory) -> Path:
    from agent.demo.synth import Line, render_conversation

    media = tmp_path_factory.mktemp("media") / "long.wav"
    render_conversation([Line("Hello there, this is a long replay.", 30.0)], media)
    return media


def start_replay(media: Path, out: Path) -> subprocess.Popen:
    """A realtime replay in its own process, returned once its session has started (the trace says so: it is
    flushed within a second)."""
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "replay", str(media), "--pace", "realtime", "--quiet",
                             "--out", str(out), "--record", str(out / "rec.wav")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    partial = out / "trace.jsonl.partial"
    deadline = time.monotonic() + 120
    while not (partial.exists() and "session_started" in partial.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1].decode()[-2000:]
        time.sleep(0.1)
    return proc


def trace_lines(path: Path, torn_tail_allowed: bool = False) -> list[dict]:
    lines = path.read_text().splitlines()
    if torn_tail_allowed and lines:
        try:
            json.loads(lines[-1])
        except json.JSONDecodeError:
            lines = lines[:-1]   # a kill may cut the last line mid-write; every line before it is whole
    return [json.loads(line) for line in lines]


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_realtime_replay_with_its_exit_code_and_finished_outputs(tmp_path, long_speech, sig, code):
    out = tmp_path / "out"
    proc = start_replay(long_speech, out)
    time.sleep(3.0)
    proc.send_signal(sig)
    sent = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr.decode()[-2000:]
    assert time.monotonic() - sent < 15                          # loose: winding down plus writing the report
    assert f"stopped by {sig.name}" in stderr.decode()
    assert not list(out.glob("*.partial"))
    assert isinstance(json.loads((out / "turns.json").read_text()), list)
    trace = trace_lines(out / "trace.jsonl")
    assert trace[-1]["type"] == "session_ended" and trace[-1]["t"] < 20
    assert sf.info(out / "rec.wav").duration >= 2.0 and (out / "metrics.json").exists()


@pytest.mark.slow
def test_a_second_signal_leaves_partial_files_and_no_final_names(tmp_path, long_speech):
    out = tmp_path / "out"
    proc = start_replay(long_speech, out)
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)   # two kinds: two of one kind may reach the process as one
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (130, 143), stderr.decode()[-2000:]   # whichever the process received first
    assert f"interrupted by {signal.Signals(proc.returncode - 128).name}" in stderr.decode()
    assert {p.name for p in out.iterdir()} == {"rec.wav.partial", "trace.jsonl.partial"}
    assert sf.info(out / "rec.wav.partial").duration >= 2.0
    assert trace_lines(out / "trace.jsonl.partial")[0]["type"] == "session_started"


@pytest.mark.slow
def test_kill_9_leaves_the_recording_and_the_trace_up_to_a_second_before(tmp_path, long_speech):
    out = tmp_path / "out"
    proc = start_replay(long_speech, out)
    time.sleep(3.0)
    proc.kill()
    proc.communicate(timeout=30)
    recording = out / "rec.wav.partial"
    with wave.open(str(recording)) as w:                          # its header's sizes are right
        assert w.getnframes() >= 16000
    assert sf.info(recording).duration >= 1.0
    trace = trace_lines(out / "trace.jsonl.partial", torn_tail_allowed=True)
    assert trace[0]["type"] == "session_started"


# ---- doctor -------------------------------------------------------------------------------------------------------

def doctor(capsys, *sets: str) -> list[str]:
    main(["doctor", *(a for s in sets for a in ("--set", s))])
    return capsys.readouterr().out.splitlines()


def line(lines: list[str], start: str) -> str:
    found = [entry for entry in lines if entry.split(None, 1)[-1].startswith(start)]
    assert len(found) == 1, lines
    return found[0]


def test_doctor_checks_the_configured_speech_recognizer(capsys):
    from tests.dialogue.chat_server import ChatServer, Reply

    with ChatServer(Reply()) as server:
        lines = doctor(capsys, "vision.enabled=false", "asr.backend=openai", "asr.model=tiny",
                       f"asr.base_url={server.base_url}")
    assert line(lines, "ASR (openai)").split()[0] == "ok"
    assert f"endpoint {server.base_url}: serves ['tiny']" in line(lines, "ASR (openai)")
    lines = doctor(capsys, "vision.enabled=false", "asr.backend=openai")
    assert line(lines, "ASR (openai)").startswith("fail") and '"bundled"' in line(lines, "ASR (openai)")
    lines = doctor(capsys, "vision.enabled=false", "asr.backend=faster-whisper", "asr.model=/no/such/model")
    assert line(lines, "ASR (faster-whisper) model").startswith("fail")
    assert "/no/such/model" in line(lines, "ASR (faster-whisper) model")


def test_doctor_checks_the_onnx_face_and_expression_models(tmp_path, capsys):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    lines = doctor(capsys, "face.detector=onnx", f"face.onnx_path={tmp_path / 'none.onnx'}",
                   "expression.backend=onnx", f"expression.onnx_path={junk}")
    assert line(lines, "face detector").startswith("fail")
    assert f"face.onnx_path: {tmp_path / 'none.onnx'}: no such ONNX model file" in line(lines, "face detector")
    assert line(lines, "expression").startswith("fail")
    assert f"expression.onnx_path: {junk}: not a loadable ONNX model" in line(lines, "expression")


def test_doctor_fails_when_the_brain_endpoint_lists_models_but_streams_another_shape(capsys):
    from tests.dialogue.chat_server import ChatServer, Reply

    brain = ("vision.enabled=false", "brain.backend=openai", "brain.model=tiny")
    with ChatServer(Reply(lines=('data: {"choices": {"text": "OK"}}', "data: [DONE]"))) as server:
        lines = doctor(capsys, *brain, f"brain.base_url={server.base_url}")
    assert line(lines, f"brain endpoint {server.base_url}").startswith("  ok")
    request = line(lines, "brain (openai)")
    assert request.startswith("fail") and "unexpected chunk shape (choices is a dict, not a list)" in request
    with ChatServer(Reply(chunks=("<decision>respond</decision>", "<emotion>warm</emotion>"))) as server:
        lines = doctor(capsys, *brain, f"brain.base_url={server.base_url}")
    assert line(lines, "brain (openai)").startswith("  ok")
