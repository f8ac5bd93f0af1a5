"""face-api.js's face recognition net (a 128-d ResNet, tfjs weights) as an ONNX file that ONNX Runtime runs.

    python -m training.face_id_export MODEL_DIR fervideo/weights/face_recognition.onnx

MODEL_DIR holds face_recognition_model-weights_manifest.json and face_recognition_model.bin from the npm package
@vladmandic/face-api (MIT; `npm pack @vladmandic/face-api`, folder model/). The graph is written by hand, op by op,
after the package's src/faceRecognitionNet (FaceRecognitionNet.ts, residualLayer.ts, convLayer.ts): no torch, no
tensorflow. Weights stay the uint8 the manifest quantised them to, widened on load (q * scale + min, as tfjs does),
so the file is the size of the .bin. Input: (N, 150, 150, 3) float32 RGB in 0-255; output (N, 128).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
MEAN_RGB = (122.782, 117.001, 104.298)  # FaceRecognitionNet.ts: subtracted, then divided by 255
SIDE = 150
# (block, downsampling) in the order FaceRecognitionNet.forwardInput applies them
BLOCKS = (
    ("conv32_1", False),
    ("conv32_2", False),
    ("conv32_3", False),
    ("conv64_down", True),
    ("conv64_1", False),
    ("conv64_2", False),
    ("conv64_3", False),
    ("conv128_down", True),
    ("conv128_1", False),
    ("conv128_2", False),
    ("conv256_down", True),
    ("conv256_1", False),
    ("conv256_2", False),
    ("conv256_down_out", True),
)


def read_tfjs(model_dir: Path) -> dict[str, tuple[np.ndarray, tuple[float, float] | None]]:
    """Each weight as stored (uint8 or float32, tfjs shape) with its (scale, min) where quantised."""
    manifest = json.loads((model_dir / "face_recognition_model-weights_manifest.json").read_text())
    weights: dict[str, tuple[np.ndarray, tuple[float, float] | None]] = {}
    for group in manifest:
        data = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"]))
            quant = spec.get("quantization")
            dtype = np.uint8 if quant else np.float32
            array = np.frombuffer(data, dtype, count, offset).reshape(spec["shape"])
            offset += count * np.dtype(dtype).itemsize
            weights[spec["name"]] = (array, (quant["scale"], quant["min"]) if quant else None)
        assert offset == len(data), "the manifest describes the whole .bin"
    return weights


class Graph:
    """Collects nodes and initialisers; each helper returns the name of its output."""

    def __init__(self, weights: dict) -> None:
        self.weights, self.nodes, self.inits, self.count = weights, [], [], 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def op(self, kind: str, inputs: list[str], **attrs: object) -> str:
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def const(self, array: np.ndarray, stem: str = "c") -> str:
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def param(self, key: str, layout: tuple[int, ...] | None = None, shape: tuple[int, ...] | None = None) -> str:
        """A weight in float32, transposed then reshaped as given; uint8 ones widened in the graph."""
        array, quant = self.weights[key]
        array = array.transpose(layout) if layout else array
        array = array.reshape(shape) if shape else array
        stored = self.const(array, key.replace("/", "_"))
        if quant is None:
            return stored
        wide = self.op("Cast", [stored], to=TensorProto.FLOAT)
        scaled = self.op("Mul", [wide, self.const(np.float32(quant[0]))])
        return self.op("Add", [scaled, self.const(np.float32(quant[1]))])

    def conv(self, x: str, key: str, stride: int, relu: bool) -> str:
        """convLayer.ts: conv (same padding at stride 1, valid at 2), + bias, * scale + shift, optional relu."""
        filters = self.weights[f"{key}/conv/filters"][0]
        k, channels = filters.shape[0], filters.shape[3]
        pads = [k // 2] * 4 if stride == 1 else [0] * 4
        out = self.op("Conv", [x, self.param(f"{key}/conv/filters", (3, 2, 0, 1))], strides=[stride] * 2, pads=pads)
        vector = (1, channels, 1, 1)
        out = self.op("Add", [out, self.param(f"{key}/conv/bias", shape=vector)])
        out = self.op("Mul", [out, self.param(f"{key}/scale/weights", shape=vector)])
        out = self.op("Add", [out, self.param(f"{key}/scale/biases", shape=vector)])
        return self.op("Relu", [out]) if relu else out

    def residual(self, x: str, key: str, down: bool, size: int, channels: int) -> tuple[str, int, int]:
        """residualLayer.ts; returns the output with its spatial size and channels."""
        out = self.conv(x, f"{key}/conv1", 2 if down else 1, True)
        out = self.conv(out, f"{key}/conv2", 1, False)
        if not down:
            return self.op("Relu", [self.op("Add", [out, x])]), size, channels
        new_channels = self.weights[f"{key}/conv2/conv/filters"][0].shape[3]
        conv_size, pool_size = (size - 3) // 2 + 1, size // 2
        pooled = self.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
        if pool_size != conv_size:  # the conv's output gets a row and a column of zeros at its end
            out = self.op("Pad", [out, self.const(np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64))])
        if new_channels != channels:  # the shortcut gets zero channels after its own
            pad = np.array([0, 0, 0, 0, 0, new_channels - channels, 0, 0], np.int64)
            pooled = self.op("Pad", [pooled, self.const(pad)])
        return self.op("Relu", [self.op("Add", [pooled, out])]), pool_size, new_channels


def build(weights: dict) -> onnx.ModelProto:
    """The whole net: normalise, conv32_down, max pool, the residual blocks, global mean, fc."""
    g = Graph(weights)
    x = g.op("Transpose", ["faces"], perm=[0, 3, 1, 2])
    x = g.op("Sub", [x, g.const(np.array(MEAN_RGB, np.float32).reshape(1, 3, 1, 1))])
    x = g.op("Mul", [x, g.const(np.float32(1 / 255))])
    x = g.conv(x, "conv32_down", 2, True)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    size, channels = ((SIDE - 7) // 2 + 1 - 3) // 2 + 1, 32
    for key, down in BLOCKS:
        x, size, channels = g.residual(x, key, down, size, channels)
    x = g.op("ReduceMean", [x], axes=[2, 3], keepdims=0)
    g.nodes.append(helper.make_node("MatMul", [x, g.param("fc")], ["descriptors"]))
    graph = helper.make_graph(
        g.nodes,
        "face_recognition",
        [helper.make_tensor_value_info("faces", TensorProto.FLOAT, ["N", SIDE, SIDE, 3])],
        [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["N", 128])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fervideo")
    model.ir_version = 8  # readable by older ONNX Runtime releases too
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> None:
    """Convert MODEL_DIR's tfjs weights into OUT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    onnx.save(build(read_tfjs(args.model_dir)), args.out)


if __name__ == "__main__":
    main()
