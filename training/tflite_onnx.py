"""mediapipe's four TFLite models in fervideo/weights/ as ONNX files that ONNX Runtime runs, written once.

    python -m training.tflite_onnx [--weights fervideo/weights]

Needs the dev extra (ai-edge-litert, onnx): the flatbuffer is read with the schema LiteRT ships
(ai_edge_litert.schema_py_generated, the object API), and each file is checked against LiteRT on a random input.
PyPI's tflite2onnx 0.4.1 was tried first: it has no DENSIFY (the full-range model's sparse weights) and fails on
face_landmark.tflite's layout, and tf2onnx needs all of tensorflow; so the graph is written here, op by op, for
the ops these four models use. Activations are NCHW inside, as ONNX Runtime's kernels want them; the input and
the outputs keep TFLite's NHWC shapes and names, with a free batch axis. Weights keep their precision: the fp16
ones stay fp16, widened by a Cast that ONNX Runtime folds when it loads the file (PReLU's slopes become 1 - slope
in float32, see Converter.prelu). The bytes written are the same on every run, so their sha256
(fervideo/engine/blazeface.py, landmarks.py, weights/README.md) can be checked.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WEIGHTS = Path(__file__).resolve().parents[1] / "fervideo" / "weights"
MODELS = (
    "face_detection_short_range",
    "face_detection_full_range_sparse",
    "face_landmark",
    "iris_landmark",
)
OPSET = 17
NUMPY = {0: np.float32, 1: np.float16, 2: np.int32}  # TFLite TensorType -> dtype
SAME = 0  # TFLite Padding: SAME 0, VALID 1
ACTIVATION = {0: None, 1: ("Relu", {}), 3: ("Clip", {"min": 0.0, "max": 6.0})}  # fused_activation_function
TO_NCHW, TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)
# BuiltinOperator codes of the ops these models use
ADD, CONCATENATION, CONV_2D, DEPTH_TO_SPACE, DEPTHWISE_CONV_2D, DEQUANTIZE = 0, 2, 3, 5, 4, 6
MAX_POOL_2D, RELU, RESHAPE, RESIZE_BILINEAR, PAD, PRELU, DENSIFY = 17, 19, 22, 23, 34, 54, 124


class Converter:
    """One TFLite subgraph written as an ONNX graph."""

    def __init__(self, model: object) -> None:
        self.model, self.graph = model, model.subgraphs[0]
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.constants: dict[int, np.ndarray] = {}  # tensor index -> value, for the outputs of DEQUANTIZE/DENSIFY

    def shape(self, i: int) -> list[int]:
        return [int(d) for d in self.graph.tensors[i].shape]

    def constant(self, i: int) -> np.ndarray:
        """A constant tensor's value in its stored dtype (fp16 weights stay fp16), densified if stored sparse."""
        if i in self.constants:
            return self.constants[i]
        tensor = self.graph.tensors[i]
        data = self.model.buffers[tensor.buffer].data
        if data is None or not len(data):
            raise ValueError(f"tensor {tensor.name!r} is computed, not a constant: this converter expects a weight")
        values = np.frombuffer(np.asarray(data, np.uint8).tobytes(), NUMPY[tensor.type])
        if tensor.sparsity is not None:
            return densified(values, tensor.sparsity, self.shape(i))
        return values.reshape(self.shape(i))

    def add(self, op: str, inputs: list[str], output: str, **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=f"n{len(self.nodes)}_{op}", **attrs))
        return output

    def weight(self, value: np.ndarray, name: str) -> str:
        """An initializer; an fp16 one widened to float by a Cast, as TFLite's DEQUANTIZE widens it."""
        if value.dtype == np.float16:
            self.initializers.append(numpy_helper.from_array(value, f"{name}_fp16"))
            return self.add("Cast", [f"{name}_fp16"], name, to=TensorProto.FLOAT)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def ints(self, values: list[int], name: str) -> str:
        self.initializers.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def fused(self, op: str, inputs: list[str], output: str, activation: int, **attrs: object) -> str:
        """An op and the activation TFLite fused into it, into output."""
        if activation not in ACTIVATION:
            raise NotImplementedError(f"fused activation {activation} is not converted; add it to ACTIVATION")
        if ACTIVATION[activation] is None:
            return self.add(op, inputs, output, **attrs)
        raw = self.add(op, inputs, f"{output}_{op.lower()}", **attrs)
        kind, bounds = ACTIVATION[activation]
        limits = [self.weight(np.array(bounds[k], np.float32), f"{output}_{k}") for k in bounds]
        return self.add(kind, [raw, *limits], output)

    def convert(self, name: str) -> onnx.ModelProto:
        """The whole graph as an ONNX model: NHWC input and outputs with TFLite's names, a free batch axis."""
        (source,) = self.graph.inputs
        in_name = self.graph.tensors[source].name.decode()
        self.add("Transpose", [in_name], value(source), perm=TO_NCHW)
        for op in self.graph.operators:
            self.operator(op)
        outputs = []
        for i in self.graph.outputs:
            out_name, shape = self.graph.tensors[i].name.decode(), self.shape(i)
            if len(shape) == 4:
                self.add("Transpose", [value(i)], out_name, perm=TO_NHWC)
            else:
                self.add("Identity", [value(i)], out_name)
            outputs.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["batch", *shape[1:]]))
        inputs = [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, ["batch", *self.shape(source)[1:]])]
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fervideo")
        model.ir_version = 8  # readable by older ONNX Runtime releases too
        return model

    def operator(self, op: object) -> None:
        """One TFLite operator as ONNX nodes; its output is named value(index) and is NCHW when 4-D."""
        code_of = self.model.operatorCodes[op.opcodeIndex]
        code = max(code_of.builtinCode, code_of.deprecatedBuiltinCode)
        ins, (out,) = list(op.inputs), op.outputs
        options = op.builtinOptions
        if code in (DEQUANTIZE, DENSIFY):  # weights only: folded into the constant, whose dtype is kept
            self.constants[out] = self.constant(ins[0])
        elif code in (CONV_2D, DEPTHWISE_CONV_2D):
            self.convolution(code, ins, out, options)
        elif code == ADD:
            self.fused("Add", [value(ins[0]), value(ins[1])], value(out), options.fusedActivationFunction)
        elif code == RELU:
            self.add("Relu", [value(ins[0])], value(out))
        elif code == PRELU:
            self.prelu(ins, out)
        elif code == MAX_POOL_2D:
            kernel, strides = [options.filterHeight, options.filterWidth], [options.strideH, options.strideW]
            pads = padding(self.shape(ins[0]), self.shape(out), kernel, strides, [1, 1], options.padding)
            self.fused("MaxPool", [value(ins[0])], value(out), options.fusedActivationFunction, kernel_shape=kernel,
                       strides=strides, pads=pads)  # fmt: skip
        elif code == PAD:
            self.pad(ins, out)
        elif code == RESHAPE:
            source = value(ins[0])
            if len(self.shape(ins[0])) == 4:
                source = self.add("Transpose", [source], f"{value(out)}_nhwc", perm=TO_NHWC)
            target = self.shape(out)
            target[0] = 0  # copy the batch axis: (B, ...) stays B rows, whatever TFLite's fixed 1 said
            if len(target) == 4:
                shaped = self.add("Reshape", [source, self.ints(target, f"{value(out)}_shape")], f"{value(out)}_r")
                self.add("Transpose", [shaped], value(out), perm=TO_NCHW)
            else:
                self.add("Reshape", [source, self.ints(target, f"{value(out)}_shape")], value(out))
        elif code == CONCATENATION:
            rank, axis = len(self.shape(out)), options.axis
            axis = axis % rank
            axis = TO_NCHW.index(axis) if rank == 4 else axis
            self.fused("Concat", [value(i) for i in ins], value(out), options.fusedActivationFunction, axis=axis)
        elif code == RESIZE_BILINEAR:
            (_, h, w, _), (_, oh, ow, _) = self.shape(ins[0]), self.shape(out)
            mode = (
                "align_corners" if options.alignCorners else "half_pixel" if options.halfPixelCenters else "asymmetric"
            )
            scales = self.weight(np.array([1, 1, oh / h, ow / w], np.float32), f"{value(out)}_scales")
            self.add("Resize", [value(ins[0]), "", scales], value(out), mode="linear",
                     coordinate_transformation_mode=mode)  # fmt: skip
        elif code == DEPTH_TO_SPACE:  # TensorFlow's channel order is ONNX's DCR
            self.add("DepthToSpace", [value(ins[0])], value(out), blocksize=options.blockSize, mode="DCR")
        else:
            raise NotImplementedError(f"TFLite operator {code} is not converted; add it to Converter.operator")

    def convolution(self, code: int, ins: list[int], out: int, options: object) -> None:
        """CONV_2D (filter O,H,W,I) or DEPTHWISE_CONV_2D (filter 1,H,W,C) with its bias and fused activation."""
        kernel = self.constant(ins[1])
        channels = self.shape(ins[0])[3]
        if code == DEPTHWISE_CONV_2D:
            if options.depthMultiplier != 1:
                raise NotImplementedError("a depthwise convolution with depth_multiplier != 1 is not converted")
            kernel, group = kernel.transpose(3, 0, 1, 2), channels  # (C, 1, H, W)
        else:
            kernel, group = kernel.transpose(0, 3, 1, 2), 1  # (O, I, H, W)
        strides, dilations = [options.strideH, options.strideW], [options.dilationHFactor, options.dilationWFactor]
        pads = padding(self.shape(ins[0]), self.shape(out), list(kernel.shape[2:]), strides, dilations, options.padding)
        inputs = [value(ins[0]), self.weight(np.ascontiguousarray(kernel), f"{value(out)}_w")]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.weight(self.constant(ins[2]), f"{value(out)}_b"))
        self.fused("Conv", inputs, value(out), options.fusedActivationFunction, strides=strides, dilations=dilations,
                   pads=pads, group=group)  # fmt: skip

    def pad(self, ins: list[int], out: int) -> None:
        """PAD; zero channels appended to a tensor of whole blocks of 16 as a 1x1 convolution with an identity kernel.

        BlazeFace-style residual blocks widen the shortcut by padding channels. An ONNX Pad takes ONNX Runtime out
        of its blocked (NCHWc, 8 or 16 channels a block) layout for the rest of the net; the convolution keeps it
        there: the mesh went from 1.29 to 1.07 ms a face, the iris model from 1.54 to 1.41 ms an eye. The
        short-range detector's channels (24, 28, ...) are not whole blocks, and it was slower that way.
        """
        pads = self.constant(ins[1]).astype(np.int64)  # (rank, 2) in TFLite's axis order
        order = TO_NCHW if len(pads) == 4 else range(len(pads))
        before, after = [int(pads[a, 0]) for a in order], [int(pads[a, 1]) for a in order]
        if len(pads) == 4 and not any(before) and not any(after[i] for i in (0, 2, 3)):
            channels, wider = self.shape(ins[0])[3], self.shape(out)[3]
            if channels % 16 == 0 and wider % 16 == 0:
                identity = np.eye(wider, channels, dtype=np.float32).reshape(wider, channels, 1, 1)
                self.add("Conv", [value(ins[0]), self.weight(identity, f"{value(out)}_eye")], value(out))
                return
        self.add("Pad", [value(ins[0]), self.ints(before + after, f"{value(out)}_pads")], value(out))

    def prelu(self, ins: list[int], out: int) -> None:
        """PRELU as x + (1 - slope) * relu(-x): two depthwise 1x1 convolutions, exact for x > 0.

        ONNX Runtime's PRelu kernel is slow and outside its blocked (NCHWc) convolution path, which it leaves and
        re-enters around each one: the mesh took 4.1 ms a face with PRelu, 1.4 ms written this way.
        """
        x, y, slope = value(ins[0]), value(out), self.constant(ins[1]).astype(np.float32).reshape(-1)
        if len(self.shape(ins[0])) != 4:
            self.add("PRelu", [x, self.weight(slope, f"{y}_slope")], y)
            return
        channels = len(slope)
        negate = self.weight(np.full((channels, 1, 1, 1), -1, np.float32), f"{y}_negate")
        # 1 - slope is exact in float32 for an fp16 slope (the mesh's), within 1e-7 for a float32 one (the iris')
        rest = self.weight((1 - slope).reshape(channels, 1, 1, 1), f"{y}_rest")
        flipped = self.fused("Conv", [x, negate], f"{y}_neg", 1, group=channels, kernel_shape=[1, 1])
        scaled = self.add("Conv", [flipped, rest], f"{y}_scaled", group=channels, kernel_shape=[1, 1])
        self.add("Add", [x, scaled], y)


def value(i: int) -> str:
    """The ONNX name of TFLite tensor i."""
    return f"t{i}"


def padding(shape_in: list[int], shape_out: list[int], kernel: list[int], strides: list[int],
            dilations: list[int], kind: int) -> list[int]:  # fmt: skip
    """ONNX pads (top, left, bottom, right) for TFLite's SAME (the odd pixel at the end) or VALID."""
    if kind != SAME:
        return [0, 0, 0, 0]
    total = [
        max((o - 1) * s + (k - 1) * d + 1 - i, 0)
        for i, o, k, s, d in zip(shape_in[1:3], shape_out[1:3], kernel, strides, dilations, strict=True)
    ]
    return [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]


def densified(values: np.ndarray, sparsity: object, shape: list[int]) -> np.ndarray:
    """A sparse TFLite constant made dense: dense leading axes, the last one CSR, in the stored order."""
    *leading, last = sparsity.dimMetadata
    if sparsity.blockMap is not None or list(sparsity.traversalOrder) != list(range(len(shape))):
        raise NotImplementedError("block-sparse or reordered TFLite tensors are not converted")
    if any(d.format != 0 for d in leading) or last.format != 1:
        raise NotImplementedError("only sparse tensors with dense axes and a CSR last axis are converted")
    segments, indices = np.asarray(last.arraySegments.values), np.asarray(last.arrayIndices.values)
    dense = np.zeros((int(np.prod(shape[:-1])), shape[-1]), values.dtype)
    for row in range(len(dense)):
        start, end = segments[row], segments[row + 1]
        dense[row, indices[start:end]] = values[start:end]
    return dense.reshape(shape)


def convert(tflite: Path) -> onnx.ModelProto:
    """The TFLite file as a checked ONNX model, its source's sha256 in its metadata."""
    from ai_edge_litert import schema_py_generated as schema

    data = tflite.read_bytes()
    model = Converter(schema.ModelT.InitFromPackedBuf(data, 0)).convert(tflite.stem)
    notice = (  # Apache-2.0, section 4(b): a derived file says that it was changed
        f"Derived from MediaPipe's {tflite.name} (Copyright The MediaPipe Authors, Apache-2.0): converted to ONNX "
        "by fervideo's training/tflite_onnx.py, the weights unchanged"
    )
    props = {"source": tflite.name, "source_sha256": hashlib.sha256(data).hexdigest(), "notice": notice}
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model


def largest_difference(tflite: Path, onnx_file: Path) -> float:
    """The largest absolute difference between LiteRT's and ONNX Runtime's outputs on two random inputs."""
    import onnxruntime

    from training.litert import LiteRTSession

    lite = LiteRTSession(tflite)
    (detail,) = lite.get_inputs()
    x = np.random.default_rng(0).uniform(-1, 1, (2, *detail.shape[1:])).astype(np.float32)
    expected = lite.run(None, {detail.name: x})
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    got = session.run(None, {detail.name: x})
    return max(float(np.abs(a - b).max()) for a, b in zip(got, expected, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="the folder of the .tflite files")
    args = parser.parse_args()
    for name in MODELS:
        tflite, target = args.weights / f"{name}.tflite", args.weights / f"{name}.onnx"
        if not tflite.is_file():
            parser.error(f"{tflite} not found: the conversion's source ships in the repository's fervideo/weights/")
        onnx.save(convert(tflite), target)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        gap = largest_difference(tflite, target)
        print(f"{target}: {target.stat().st_size:,} bytes, sha256 {digest}, LiteRT - ONNX Runtime {gap:.2e}")


if __name__ == "__main__":
    main()
