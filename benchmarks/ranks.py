"""Where each model puts the true class, per class: FER2013 val against the wild photos.

    python benchmarks/ranks.py --data ../shared/fer2013 --wild ../shared/wild [--models fernet_plus fernet]

Per model and class: recall, the mean rank of the true class among the seven (1 is the top; a model that knew
nothing would average 4) and its mean probability, on FER2013 val (folder labels) and on the photos of --wild
through the whole pipeline, as `fervideo eval --photos` runs them (photos without a face are left out here).
A class the model reads on val but ranks low on wild is one whose wild photos do not look like its FER2013
faces: no threshold chosen on val can recover it. Runs each model as analyze would (its default runtime).
"""

from __future__ import annotations

import argparse

import numpy as np
from cli_args import existing_dir, existing_path, run  # benchmarks/ is on the path when the script runs

from fervideo.core.choices import DEFAULT_MODEL
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import folder_files, load_split
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.run.evaluation import largest_faces


def per_class(probs: np.ndarray, labels: np.ndarray) -> list[tuple[int, float, float, float]]:
    """Per class: (n, recall in points, mean rank of the true class, its mean probability); rows of NaN left out."""
    found = ~np.isnan(probs[:, 0])
    probs, labels = probs[found], labels[found]
    ranks = (np.argsort(-probs, axis=1) == labels[:, None]).argmax(axis=1) + 1  # (N,) 1 = top
    rows = []
    for c in range(len(EMOTIONS)):
        mine = labels == c
        if not mine.any():
            rows.append((0, float("nan"), float("nan"), float("nan")))
            continue
        recall = 100 * float(np.mean(probs[mine].argmax(axis=1) == c))
        rows.append((int(mine.sum()), recall, float(ranks[mine].mean()), float(probs[mine, c].mean())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=existing_path, required=True, help="FER2013 (folders, csv or pack)")
    parser.add_argument("--wild", type=existing_dir, required=True, help="photos DIR/<class>/*.jpg")
    parser.add_argument("--models", nargs="+", default=[DEFAULT_MODEL])
    args = parser.parse_args()
    photos = folder_files(args.wild)
    if not photos:
        parser.error(f"no photos in {args.wild}; expected {args.wild}/<class>/*.jpg")
    val = load_split(args.data, "val")
    wild_labels = np.array([label for _, label in photos])
    for name in args.models:
        classifier = EmotionClassifier.load(name, "cpu")
        with Analyzer(AnalyzeOptions(model=name), classifier=classifier) as analyzer:
            wild, _ = largest_faces(analyzer, [path for path, _ in photos])
        tables = per_class(classifier.predict(val.images, 256), val.labels), per_class(wild, wild_labels)
        print(f"\n{name} ({classifier.runtime} {classifier.precision})")
        print("| class | val n | val recall | val rank | val p | wild n | wild recall | wild rank | wild p |")
        print("|---|---|---|---|---|---|---|---|---|")
        for emotion, (v, w) in zip(EMOTIONS, zip(*tables, strict=True), strict=True):
            cells = [f"{v[0]}", f"{v[1]:.0f}%", f"{v[2]:.2f}", f"{v[3]:.3f}", f"{w[0]}", f"{w[1]:.0f}%", f"{w[2]:.2f}"]
            print(f"| {emotion} | " + " | ".join(cells + [f"{w[3]:.3f}"]) + " |")


if __name__ == "__main__":
    run(main)
