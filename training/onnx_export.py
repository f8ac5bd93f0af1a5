"""A checkpoint as ONNX for ONNX Runtime: the graph, its description, and optionally an int8 twin.

The float graph stores its weights as float16 where that is exact (the shipped checkpoints hold float16
weights) and widens them on load, so the file is half the size and computes in float32 like torch. The int8
twin is quantised statically, calibrated on FER2013 training faces, and written only when its accuracy on
the validation split stays within MAX_DROP points of the float graph's.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import nn

from fervideo.core.atomic import AtomicOutput
from fervideo.core.checksum import sha256
from fervideo.core.errors import UsageError
from fervideo.data.dataset import Split, load_split
from fervideo.engine.models import get_entry
from fervideo.engine.onnx_model import DESCRIPTION_KEY, FORMAT, OnnxModel
from fervideo.engine.preprocess import PreprocessSpec, prepare

OPSET = 17
MAX_DROP = 0.3  # points of val accuracy an int8 file may lose against float32 and still ship
CALIBRATION_FACES = 1024


def describe(payload: dict, source: Path, model: nn.Module) -> dict:
    """The description a float32 ONNX file carries: what the checkpoint says about itself, and where it came from.

    The parameter count and the registry's one-line summary let `fervideo models` list the file without torch.
    """
    keys = ("arch", "config", "preprocess", "classes", "metrics", "temperature", "hp")
    return {"format": FORMAT, **{k: payload[k] for k in keys if k in payload}, "precision": "fp32"} | {
        "source": source.name,
        "source_sha256": sha256(source),
        "parameters": sum(p.numel() for p in model.parameters()),
        "summary": get_entry(payload["arch"]).description,
    }


def trace(model: nn.Module, spec: PreprocessSpec) -> onnx.ModelProto:
    """The model's float32 graph with a free batch axis; batch norm stays a node, fused by ONNX Runtime."""
    example = torch.zeros(2, spec.channels, spec.input_size, spec.input_size)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(
            model.float().eval(), (example,), str(path), input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=OPSET,
            do_constant_folding=False, dynamo=False,
        )  # fmt: skip
        return onnx.load(path)


def export_float(graph: onnx.ModelProto, description: dict, out: Path) -> Path:
    """A copy of the traced graph with float16 storage where exact, its description inside; written atomically."""
    half = onnx.ModelProto()
    half.CopyFrom(graph)  # the caller's graph stays float32 for quantising
    _store_half(half)
    return _save(half, description, out)


def export_int8(
    graph: onnx.ModelProto,
    spec: PreprocessSpec,
    description: dict,
    data: Path,
    out: Path,
    checks: dict[str, Split],
    photos: Path | None = None,
) -> tuple[Path | None, dict[str, tuple[float, float]]]:
    """The int8 twin and each check's accuracy in float32 and int8; None when int8 loses more than MAX_DROP.

    photos: labelled photos DIR/<class>/*.jpg (the wild check), run through the whole pipeline in both precisions.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    train = load_split(data, "train")
    rng = np.random.default_rng(0)
    faces = prepare(train.images[rng.choice(len(train), min(CALIBRATION_FACES, len(train)), replace=False)], spec)

    class Faces(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter({"input": faces[i : i + 64]} for i in range(0, len(faces), 64))

        def get_next(self) -> dict | None:
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        float_path, int8_path = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        onnx.save(graph, float_path)
        # Batch norm folded into the convolutions first: quantised as it was traced, every layer left its
        # batch norm in float32 between a dequantise and a quantise (fernet_plus: 461 -> 664 faces/s).
        folded = Path(tmp) / "folded.onnx"
        quant_pre_process(str(float_path), str(folded), skip_symbolic_shape=True)
        # reduce_range: 7-bit weights, which CPUs without VNNI need to avoid saturating (ONNX Runtime's advice)
        quantize_static(
            str(folded), str(int8_path), Faces(), quant_format=QuantFormat.QOperator, per_channel=True,
            reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        )  # fmt: skip
        runs = OnnxModel(float_path, described=False), OnnxModel(int8_path, described=False)
        scores = {name: tuple(accuracy(run, spec, split) for run in runs) for name, split in checks.items()}
        int8 = description | {"precision": "int8"}
        if photos is not None:  # each file described as it would ship, so that the pipeline can load it
            pair = [(float_path, description), (int8_path, int8)]
            described = [_save(onnx.load(path), d, path.with_suffix(".described.onnx")) for path, d in pair]
            scores["wild photos"] = tuple(photo_accuracy(path, photos) for path in described)
        if any(before - after > MAX_DROP for before, after in scores.values()):
            return None, scores
        kept = {name: after for name, (_, after) in scores.items()}
        int8["metrics"] = description.get("metrics", {}) | {"int8": kept}
        return _save(onnx.load(int8_path), int8, out), scores


def photo_accuracy(path: Path, photos: Path) -> float:
    """Accuracy in points of a described ONNX file on photos, detected, cropped and classified as analyze does."""
    from fervideo.engine.pipeline import AnalyzeOptions
    from fervideo.run.evaluation import evaluate_photos

    return 100 * evaluate_photos(photos, AnalyzeOptions(model=str(path), runtime="onnx"))["accuracy"]


def accuracy(model: OnnxModel, spec: PreprocessSpec, val: Split) -> float:
    """Val accuracy in points."""
    batches = range(0, len(val), 256)
    logits = np.concatenate([model.logits(prepare(val.images[i : i + 256], spec)) for i in batches])
    return 100 * float((logits.argmax(1) == val.labels).mean())


def _store_half(graph: onnx.ModelProto) -> None:
    """Float32 initialisers that float16 holds exactly become float16 ones behind a Cast back to float32."""
    casts = []
    for init in graph.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        weights = numpy_helper.to_array(init)
        if weights.size < 16 or not np.array_equal(weights.astype(np.float16).astype(np.float32), weights):
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(weights.astype(np.float16), f"{name}.f16"))
        casts.append(helper.make_node("Cast", [f"{name}.f16"], [name], to=onnx.TensorProto.FLOAT))
    nodes = casts + list(graph.graph.node)  # the casts before every use: the nodes stay in topological order
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)


def _save(graph: onnx.ModelProto, description: dict, out: Path) -> Path:
    meta = graph.metadata_props.add()
    meta.key, meta.value = DESCRIPTION_KEY, json.dumps(description)
    onnx.checker.check_model(graph)
    out.parent.mkdir(parents=True, exist_ok=True)
    with AtomicOutput(out) as staged:
        onnx.save(graph, staged.tmp)
    return out


def check_out(path: Path) -> None:
    """An ONNX file name ends in .onnx, so that --model finds it as one."""
    if path.suffix != ".onnx":
        raise UsageError(f"--onnx {path}: the file name must end in .onnx")
