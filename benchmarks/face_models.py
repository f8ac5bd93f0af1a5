"""mediapipe's four face models as fervideo runs them: their arithmetic, and how fast one thread does it.

    python benchmarks/face_models.py [--batch 8] [--repeat 3] [--calls 100]

For each shipped ONNX file (fervideo/weights): its convolutions' multiply-adds for one input (from ONNX's shape
inference), then the ms an input at batch 1 and at --batch through the session fervideo opens (one thread), and
the multiply-adds a second that makes. Thread CPU time, so a busy machine moves it little.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from cli_args import needs, positive_int, run
from throughput import machine

from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, model_file
from fervideo.engine.landmarks import IRIS_FILE, MESH_FILE
from fervideo.engine.onnx_model import session

WEIGHTS = model_file(SHORT_RANGE).parent
MODELS = {
    "detector, short range": SHORT_RANGE.file,
    "detector, full range": FULL_RANGE.file,
    "face mesh": MESH_FILE,
    "iris (one eye)": IRIS_FILE,
}


def conv_macs(path: str) -> int:
    """Multiply-adds of every convolution for one input (batch 1)."""
    import onnx
    from onnx import shape_inference

    model = onnx.load(path)
    for tensor in model.graph.input:
        for dim in tensor.type.tensor_type.shape.dim:
            if not dim.dim_value:
                dim.dim_value = 1
    graph = shape_inference.infer_shapes(model).graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in [*graph.value_info, *graph.output]}
    weights = {t.name: list(t.dims) for t in graph.initializer}
    for node in graph.node:  # weights stored in half precision reach the convolutions through a Cast
        if node.op_type in ("Cast", "Identity") and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    convs = [n for n in graph.node if n.op_type == "Conv"]
    return sum(int(np.prod(shapes[n.output[0]])) * int(np.prod(weights[n.input[1]][1:])) for n in convs)


def ms_per_input(path: str, batch: int, calls: int, repeat: int) -> float | None:
    """Best thread-CPU ms an input over repeat rounds of calls at batch; None where the model's batch is fixed."""
    run = session(path)
    spec = run.get_inputs()[0]
    shape = [batch if not isinstance(d, int) else d for d in spec.shape]
    if shape[0] != batch:  # the detectors take one frame a call
        return None
    feed = {spec.name: np.random.default_rng(0).random(shape, np.float32)}
    for _ in range(5):
        run.run(None, feed)
    best = float("inf")
    for _ in range(repeat):
        tic = time.thread_time()
        for _ in range(calls):
            run.run(None, feed)
        best = min(best, (time.thread_time() - tic) / (calls * batch) * 1e3)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batch", type=positive_int, default=8, help="the second batch size (the mesh and iris run batched)"
    )
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--calls", type=positive_int, default=100)
    args = parser.parse_args()
    needs("onnx", "pip install onnx, or the export or dev extra")
    print(f"{machine()}; one thread, best of {args.repeat} rounds of {args.calls} calls")
    print(f"{'model':<24}{'M MACs':>8}{'ms, batch 1':>13}{f'ms, batch {args.batch}':>13}{'G MAC/s':>9}")
    for name, file in MODELS.items():
        path = str(WEIGHTS / file)
        macs = conv_macs(path)
        one, many = (ms_per_input(path, b, args.calls, args.repeat) for b in (1, args.batch))
        rate = macs / min(one, many or one) / 1e6
        shown = "-" if many is None else f"{many:.2f}"
        print(f"{name:<24}{macs / 1e6:>8.1f}{one:>13.2f}{shown:>13}{rate:>9.1f}")


if __name__ == "__main__":
    run(main)
