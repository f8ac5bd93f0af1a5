"""Classification alone: faces per second for each model in the zoo at several batch sizes, on the CPU.

    python benchmarks/classify.py [--models cnn fernet] [--batch-sizes 1 8 32 128] [--seconds 3]
                                  [--precision auto|fp32|bf16|int8] [--runtime auto|onnx|torch] [--threads N]

Models without shipped weights are timed with random weights (same cost). Faces are random 48x48 crops,
so the number covers preprocessing and the forward pass, not detection.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from cli_args import positive_float, positive_int, run  # benchmarks/ is on the path when the script runs

from fervideo.core.choices import PRECISIONS, RUNTIMES
from fervideo.core.errors import ModelError, UsageError
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.runtime import use_threads


def load(name: str, precision: str = "auto", runtime: str = "auto") -> EmotionClassifier:
    """The shipped model on its runtime, or the architecture with random weights on torch when none ships."""
    try:
        return EmotionClassifier.load(name, "cpu", precision, runtime)
    except ModelError:
        import torch

        from fervideo.engine.models import create_model, get_entry
        from fervideo.engine.torch_model import TorchModel

        entry = get_entry(name)
        info = {"name": name, "arch": name, "checkpoint": None, "sha256": None}
        return EmotionClassifier(TorchModel(create_model(name), torch.device("cpu"), precision), entry.preprocess, info)


def faces_per_second(classifier: EmotionClassifier, batch: int, seconds: float, tta: bool = False) -> float:
    """Throughput of predict() on random faces, after one warm-up call."""
    faces = np.random.default_rng(0).integers(0, 256, (batch, 48, 48), dtype=np.uint8)
    classifier.predict(faces, batch, tta=tta)
    done, tic = 0, time.perf_counter()
    while time.perf_counter() - tic < seconds:
        classifier.predict(faces, batch, tta=tta)
        done += batch
    return done / (time.perf_counter() - tic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "vit", "fernet", "fernet_plus"])
    parser.add_argument("--batch-sizes", nargs="+", type=positive_int, default=[1, 8, 32, 128])
    parser.add_argument("--seconds", type=positive_float, default=3.0)
    parser.add_argument("--tta", action="store_true", help="also time test-time augmentation")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="as fervideo analyze's")
    parser.add_argument("--runtime", default="auto", choices=RUNTIMES, help="as fervideo analyze's")
    parser.add_argument("--threads", type=positive_int, default=1, help="classifier threads")
    args = parser.parse_args()
    use_threads(args.threads)
    print(f"faces/s on the CPU, {args.threads} threads, precision {args.precision}, runtime {args.runtime}")
    print(f"{'model':10s} " + " ".join(f"{'batch ' + str(b):>10s}" for b in args.batch_sizes))
    for name in args.models:
        try:
            classifier = load(name, args.precision, args.runtime)
        except UsageError as err:  # e.g. int8 asked of a model that ships no int8 file
            print(f"{name:10s} {'-':>10s}  ({err})")
            continue
        rates = [faces_per_second(classifier, b, args.seconds) for b in args.batch_sizes]
        print(
            f"{name:10s} " + " ".join(f"{r:10.0f}" for r in rates) + f"  ({classifier.runtime} {classifier.precision})"
        )
        if args.tta:
            rates = [faces_per_second(classifier, b, args.seconds, tta=True) for b in args.batch_sizes]
            print(f"{name + '+tta':10s} " + " ".join(f"{r:10.0f}" for r in rates))


if __name__ == "__main__":
    run(main)
