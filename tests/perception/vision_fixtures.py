"""Test material for the vision tests: real photos (scikit-image's astronaut) and tiny ONNX models built here."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper
from skimage import data

from perception.expression import AFFECTNET_CLASSES

OPSET = [helper.make_opsetid("", 17)]


@lru_cache(maxsize=None)
def _astronaut() -> np.ndarray:
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    image.flags.writeable = False
    return image


def astronaut(width: int = 640, height: int = 480) -> np.ndarray:
    """The astronaut photo (one smiling face, upper middle) as BGR uint8 of the size asked."""
    return cv2.resize(_astronaut(), (width, height), interpolation=cv2.INTER_AREA)


def two_astronauts(shift: int = 0) -> np.ndarray:
    """A 640x480 frame with the photo pasted twice side by side: a larger face on the left (moved right by
    ``shift`` pixels) and a smaller one on the right, on a plain gray background."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[80:400, 10 + shift:330 + shift] = cv2.resize(_astronaut(), (320, 320), interpolation=cv2.INTER_AREA)
    frame[120:360, 380:620] = cv2.resize(_astronaut(), (240, 240), interpolation=cv2.INTER_AREA)
    return frame


def _constant(name: str, array: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(
        name + "_value", TensorProto.FLOAT, list(array.shape), array.reshape(-1).tolist()))


def yunet_model(path: Path, size: int = 64, faces: tuple[tuple[int, int, int, float, tuple[float, ...]], ...] = (),
                drop: str = "", input_shape: list[int | str] | None = None) -> str:
    """A YuNet-shaped face detector whose outputs are fixed: for each ``(stride, row, col, score, box)`` in
    ``faces`` the anchor at (row, col) of that stride's grid scores ``score`` (cls = score², obj = 1) with the
    raw box deltas ``box`` = (dx, dy, log w, log h) in strides. ``drop`` leaves out one output.

    Each output is a flat Constant reshaped to [1, N, C], as the real model's heads end."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape or [1, 3, size, size])
    nodes, outputs = [], []
    for stride in (8, 16, 32):
        n = (size // stride) ** 2
        cls, obj = np.zeros((n, 1), np.float32), np.ones((n, 1), np.float32)
        bbox, kps = np.zeros((n, 4), np.float32), np.zeros((n, 10), np.float32)
        for s, row, col, score, box in faces:
            if s == stride:
                k = row * (size // stride) + col
                cls[k, 0] = score ** 2
                bbox[k] = box
        for kind, values in (("cls", cls), ("obj", obj), ("bbox", bbox), ("kps", kps)):
            name = f"{kind}_{stride}"
            if name == drop:
                continue
            nodes.append(_constant(name + "_flat", values.reshape(-1)))
            nodes.append(helper.make_node("Constant", [], [name + "_shape"], value=helper.make_tensor(
                name + "_shape_value", TensorProto.INT64, [3], [1, n, values.shape[1]])))
            nodes.append(helper.make_node("Reshape", [name + "_flat", name + "_shape"], [name]))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, n, values.shape[1]]))
    graph = helper.make_graph(nodes, "yunet_like", [x], outputs)
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))
    return str(path)


def classifier_model(path: Path, size: int | str = 64, classes: int = 8,
                     rgb_to_class: tuple[str, str, str] = ("happiness", "neutral", "anger"),
                     bias: str = "") -> str:
    """An expression classifier: GlobalAveragePool over the [1,3,S,S] input, then Gemm to [1, classes] logits.

    Channel i of the (normalised RGB) input adds 4× its mean to the logit of ``rgb_to_class[i]``; ``bias``
    names a class given +5 whatever the image."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])
    names = AFFECTNET_CLASSES if classes == 8 else tuple(f"c{i}" for i in range(classes))
    weights = np.zeros((3, classes), np.float32)
    for channel, label in enumerate(rgb_to_class):
        if label in names:
            weights[channel, names.index(label)] = 4.0
    biases = np.array([5.0 if c == bias else 0.0 for c in names], np.float32)
    nodes = [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["flat"]),
             helper.make_node("Gemm", ["flat", "W", "B"], ["logits"])]
    graph = helper.make_graph(nodes, "expression_like", [x], [y], initializer=[
        helper.make_tensor("W", TensorProto.FLOAT, [3, classes], weights.reshape(-1).tolist()),
        helper.make_tensor("B", TensorProto.FLOAT, [classes], biases.tolist())])
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))
    return str(path)
