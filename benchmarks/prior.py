"""Logit adjustment: what dividing a model's probabilities by its training prior (to a power tau) does.

    python benchmarks/prior.py --data ../shared/fer2013 --labels ../shared/fer2013/ferplus.csv --wild ../shared/wild
                               [--model fernet_plus] [--taus 0 0.25 0.5 0.75 1]

The prior is the model's mean prediction on every fourth FER2013 training face. argmax of p(y|x) / prior^tau
trades accuracy for macro accuracy (tau 1 is the rule that is best for macro accuracy when the model is
calibrated and the classes are balanced). Prints, per tau, FER+ val, FER2013 val and the wild photos (through
the whole pipeline, as `fervideo eval --photos`; no face counts as wrong): accuracy and macro accuracy.
Choose tau on the val columns only; the wild ones are reported.
"""

from __future__ import annotations

import argparse

import numpy as np
from cli_args import existing_dir, existing_file, existing_path, run  # benchmarks/ is on the path when the script runs

from fervideo.core.choices import DEFAULT_MODEL
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import folder_files, load_split
from fervideo.data.ferplus import majority_split
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.run.evaluation import largest_faces


def scores(log_probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and macro accuracy in points; a row of NaN (no face) counts as wrong."""
    pred = np.where(np.isnan(log_probs[:, 0]), -1, np.nan_to_num(log_probs, nan=-np.inf).argmax(axis=1))
    per_class = [np.mean(pred[labels == c] == c) for c in range(len(EMOTIONS)) if (labels == c).any()]
    return 100 * float(np.mean(pred == labels)), 100 * float(np.mean(per_class))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=existing_path, required=True, help="FER2013 (folders, csv or pack)")
    parser.add_argument("--labels", type=existing_file, required=True, help="the FER+ votes CSV")
    parser.add_argument("--wild", type=existing_dir, required=True, help="photos DIR/<class>/*.jpg")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--taus", nargs="+", type=float, default=[0.0, 0.25, 0.5, 0.75, 1.0])
    args = parser.parse_args()
    if not folder_files(args.wild):
        parser.error(f"no photos in {args.wild}; expected {args.wild}/<class>/*.jpg")
    classifier = EmotionClassifier.load(args.model, "cpu")
    train, val = load_split(args.data, "train"), load_split(args.data, "val")
    plus = majority_split(args.data, "val", val, args.labels)
    prior = classifier.predict(train.images[::4], 256).mean(axis=0)
    photos = folder_files(args.wild)
    with Analyzer(AnalyzeOptions(model=args.model), classifier=classifier) as analyzer:
        wild, _ = largest_faces(analyzer, [path for path, _ in photos])
    sets = {
        "FER+ val": (classifier.predict(plus.images, 256), plus.labels),
        "FER2013 val": (classifier.predict(val.images, 256), val.labels),
        "wild": (wild, np.array([label for _, label in photos])),
    }
    print(f"{args.model}: prior {' '.join(f'{e} {p:.3f}' for e, p in zip(EMOTIONS, prior, strict=True))}")
    print("tau   " + "".join(f"{name:>24}" for name in sets))
    for tau in args.taus:
        cells = []
        for probs, labels in sets.values():
            accuracy, macro = scores(np.log(np.clip(probs, 1e-9, 1.0)) - tau * np.log(prior), labels)
            cells.append(f"{accuracy:6.2f} (macro {macro:5.2f})")
        print(f"{tau:<6}" + "".join(f"{cell:>24}" for cell in cells))


if __name__ == "__main__":
    run(main)
