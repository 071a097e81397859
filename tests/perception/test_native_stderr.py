"""LiteRT's "Created TensorFlow Lite XNNPACK delegate" line never reaches the terminal; all else on stderr does."""
import os
import subprocess
import sys
from pathlib import Path

from perception.native_stderr import LITERT_DELEGATE_NOTICE, without_lines

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_marked_lines_are_held_back_and_the_rest_arrive_in_order(capfd):
    with without_lines(LITERT_DELEGATE_NOTICE):
        os.write(2, b"first\nINFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"second\n")  # as a log line from another thread would
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "first\nsecond\nafter\n"


def test_an_error_inside_still_restores_stderr_and_passes_the_lines_on(capfd):
    try:
        with without_lines(LITERT_DELEGATE_NOTICE):
            os.write(2, b"why it failed\n")
            raise ValueError("bad model")
    except ValueError:
        pass
    os.write(2, b"still here\n")
    assert capfd.readouterr().err == "why it failed\nstill here\n"


def test_loading_a_litert_model_prints_nothing_on_stderr():
    code = ("import numpy as np; from perception.tflite import FER2013, TfliteModel; "
            "model = TfliteModel(FER2013); model.run(np.zeros(model.input_shape)); print('ran')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ran\n", done.stderr
    assert done.stderr == ""
