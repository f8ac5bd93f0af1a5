"""Classification alone: faces per second for each model in the zoo at several batch sizes, on the CPU.

    python benchmarks/classify.py [--models cnn fernet] [--batch-sizes 1 8 32 128] [--seconds 3]
                                  [--precision auto|fp32|bf16]

Models without shipped weights are timed with random weights (same cost). Faces are random 48x48 crops,
so the number covers preprocessing and the forward pass, not detection.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from fervideo.classifier import EmotionClassifier
from fervideo.errors import ModelError
from fervideo.models import create_model, get_entry, list_models


def load(name: str, precision: str = "auto") -> EmotionClassifier:
    """The shipped model, or the architecture with random weights when none ships."""
    try:
        return EmotionClassifier.load(name, "cpu", precision)
    except ModelError:
        entry = get_entry(name)
        info = {"name": name, "arch": name, "checkpoint": None, "sha256": None}
        return EmotionClassifier(create_model(name), entry.preprocess, torch.device("cpu"), info, precision)


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
    parser.add_argument("--models", nargs="+", default=[e.name for e in list_models() if e.name != "vit_b16"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8, 32, 128])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--tta", action="store_true", help="also time test-time augmentation")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"), help="auto: bf16 if native")
    args = parser.parse_args()
    print(f"faces/s on the CPU, {torch.get_num_threads()} torch threads, precision {args.precision}")
    print(f"{'model':10s} " + " ".join(f"{'batch ' + str(b):>10s}" for b in args.batch_sizes))
    for name in args.models:
        classifier = load(name, args.precision)
        rates = [faces_per_second(classifier, b, args.seconds) for b in args.batch_sizes]
        print(f"{name:10s} " + " ".join(f"{r:10.0f}" for r in rates))
        if args.tta:
            rates = [faces_per_second(classifier, b, args.seconds, tta=True) for b in args.batch_sizes]
            print(f"{name + '+tta':10s} " + " ".join(f"{r:10.0f}" for r in rates))


if __name__ == "__main__":
    main()
