"""Logit adjustment: correct a model for the class prior it learnt, with tau chosen on validation data.

    python -m training.prior --checkpoint runs/fernet_mix.pt --data ../shared/fer2013 \
        --labels ../shared/fer2013/ferplus.csv [--taus 0 0.25 0.5 0.75 1]

A model trained on neutral- and happy-heavy targets learns their prior and says them too often. argmax of
log p(y|x) - tau * log prior(y) undoes that (tau 1 is the rule that maximises macro accuracy for a calibrated model).
The prior is the model's mean prediction on every fourth training face. Prints, per tau, FER2013 val (folder labels)
and FER+ val (majority): accuracy, macro accuracy, the lowest class recall on FER2013 val, and "balanced", the
mean of the two macro accuracies, which is what tau is chosen on. `training.export --logit-adjust TAU` then folds
-tau * log prior into the last layer's bias, so the shipped model (and its ONNX twins) carry the rule.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from torch import nn

from fervideo.cli.common import HelpFormatter
from fervideo.core.errors import UsageError
from fervideo.data.dataset import Split, load_split
from fervideo.data.ferplus import majority_split
from fervideo.data.metrics import confusion_matrix, macro_accuracy, report
from fervideo.engine.calibration import softmax
from fervideo.engine.checkpoint import build_model, load_checkpoint
from fervideo.engine.preprocess import PreprocessSpec
from fervideo.engine.torch_model import model_input
from training.cli import script

console = Console(stderr=True)


@torch.inference_mode()
def logits_of(model: nn.Module, spec: PreprocessSpec, images: np.ndarray) -> np.ndarray:
    """The model's raw logits (N, 7) in float32, 512 faces at a time."""
    model = model.float().eval()
    return np.concatenate([model(model_input(images[i : i + 512], spec)).numpy() for i in range(0, len(images), 512)])


def train_prior(model: nn.Module, spec: PreprocessSpec, data: Path) -> np.ndarray:
    """The model's mean predicted distribution (7,) over every fourth training face."""
    train = load_split(data, "train")
    return softmax(logits_of(model, spec, train.images[::4])).mean(axis=0)


def last_linear(model: nn.Module) -> nn.Linear:
    """The layer that writes the 7 logits: the model's last nn.Linear."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers or layers[-1].bias is None:
        raise UsageError("--logit-adjust needs a model whose last layer is a linear layer with a bias")
    return layers[-1]


@torch.no_grad()
def fold_adjustment(model: nn.Module, prior: np.ndarray, tau: float) -> None:
    """Subtract tau * log prior from the last layer's bias, in place: the adjusted rule becomes the model."""
    layer = last_linear(model)
    assert layer.out_features == len(prior), "one prior entry per class"
    layer.bias -= torch.as_tensor(tau * np.log(prior), dtype=layer.bias.dtype)


def scores(logits: np.ndarray, split: Split) -> dict:
    """Accuracy, macro accuracy and the lowest class recall of argmax logits against split's labels."""
    rep = report(confusion_matrix(split.labels, logits.argmax(axis=1)))
    recalls = [row["accuracy"] for row in rep["per_class"].values() if row["total"]]
    return {"accuracy": rep["accuracy"], "macro": macro_accuracy(rep), "min_recall": min(recalls)}


def tau_table(checkpoint: Path, data: Path, labels: Path, taus: list[float]) -> list[dict]:
    """Per tau: FER2013 val and FER+ val scores and their balanced mean (validation data only)."""
    model, spec = build_model(load_checkpoint(checkpoint))
    val = load_split(data, "val")
    plus = majority_split(data, "val", val, labels)
    prior = train_prior(model, spec, data)
    folder_logits, plus_logits = logits_of(model, spec, val.images), logits_of(model, spec, plus.images)
    rows = []
    for tau in taus:
        shift = tau * np.log(prior)
        fer, fp = scores(folder_logits - shift, val), scores(plus_logits - shift, plus)
        rows.append({"tau": tau, "fer2013": fer, "ferplus": fp, "balanced": (fer["macro"] + fp["macro"]) / 2})
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.prior", formatter_class=HelpFormatter, description=__doc__.splitlines()[0]
    )
    parser.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint written by training.train")
    parser.add_argument("--data", type=Path, required=True, help="FER2013 (folders, csv or pack)")
    parser.add_argument("--labels", type=Path, required=True, help="the FER+ votes CSV")
    parser.add_argument("--taus", nargs="+", type=float, default=[0.0, 0.25, 0.5, 0.75, 1.0])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict]:
    """Print the tau table and the tau with the best balanced score."""
    return run(parse_args(argv))


def run(args: argparse.Namespace) -> list[dict]:
    """main() on parsed arguments."""
    rows = tau_table(args.checkpoint, args.data, args.labels, args.taus)
    print("| tau | FER2013 val | macro | lowest recall | FER+ val | macro | balanced |\n|---|---|---|---|---|---|---|")
    for r in rows:
        f, p = r["fer2013"], r["ferplus"]
        print(
            f"| {r['tau']:g} | {f['accuracy']:.2%} | {f['macro']:.2%} | {f['min_recall']:.0%} | {p['accuracy']:.2%} "
            f"| {p['macro']:.2%} | {r['balanced']:.2%} |"
        )
    best = max(rows, key=lambda r: r["balanced"])
    print(f"best balanced: tau {best['tau']:g} ({best['balanced']:.2%})")
    return rows


if __name__ == "__main__":
    script(run, parse_args)
