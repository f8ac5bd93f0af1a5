"""The README's model table: each shipped model on FER2013 val, FER+ val, real photos, and its speed.

    python benchmarks/zoo.py --data ../shared/fer2013 --wild ../shared/wild [--models fernet_plus fernet] [--json F]

Per model: FER2013 val accuracy without and with TTA; FER+ val accuracy (majority protocol); "balanced", the model
selection criterion: the mean of the FER2013-val and FER+-val macro accuracies (a model that says the majority class
gains nothing there); accuracy, macro
accuracy and faces found on the photos of --wild through the whole pipeline (`fervideo eval --photos`);
calibration error (ECE, 15 bins) on FER2013 val and on FER+ val; faces/s at batch 32 on one thread.
Prints one Markdown row per model (and, with --json, every figure).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from classify import faces_per_second  # benchmarks/ is on the path when the script runs
from cli_args import existing_dir, existing_file, existing_path, run

from fervideo.data.dataset import load_split
from fervideo.data.ferplus import majority_split
from fervideo.engine.checkpoint import WEIGHTS_DIR
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.models import list_models
from fervideo.engine.pipeline import AnalyzeOptions
from fervideo.engine.runtime import use_threads
from fervideo.run.evaluation import evaluate, evaluate_photos

HEADER = (
    "| model | FER2013 val | + TTA | FER+ val | balanced | wild | wild macro | faces found | ECE FER2013 | ECE FER+ "
    "| faces/s |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def measure(name: str, data: Path, wild: Path | None, ferplus: Path) -> dict:
    """Every figure of the table for one shipped model."""
    classifier = EmotionClassifier.load(name, "cpu", "fp32")  # loaded once, with the split, for every figure
    val = load_split(data, "val")
    row = {"model": name}
    plain = evaluate(classifier, val)
    row |= {"val": plain["accuracy"], "ece_fer2013": plain["ece"], "per_class": plain["per_class"]}
    row["val_tta"] = evaluate(classifier, val, tta=True)["accuracy"]
    plus = evaluate(classifier, majority_split(data, "val", val, ferplus))
    row |= {"ferplus": plus["accuracy"], "ece_ferplus": plus["ece"], "ferplus_per_class": plus["per_class"]}
    row |= {"val_macro": plain["macro_accuracy"], "ferplus_macro": plus["macro_accuracy"]}
    row["balanced"] = (plain["macro_accuracy"] + plus["macro_accuracy"]) / 2
    if wild is not None:
        photos = evaluate_photos(wild, AnalyzeOptions(model=name, device="cpu", precision="fp32"))
        row |= {"wild": photos["accuracy"], "wild_macro": photos["macro_accuracy"], "wild_ece": photos["ece"]}
        row |= {"faces_found": photos["faces_found"], "wild_per_class": photos["per_class"]}
        row |= {"wild_confusion": photos["confusion"], "wild_no_face": photos["no_face"]}
    row["faces_per_s"] = faces_per_second(classifier, 32, 3.0)  # one thread: use_threads(1) in main()
    row["runtime"] = classifier.runtime
    return row


def markdown(row: dict) -> str:
    """One table row; missing figures print as a dash."""

    def pct(key: str) -> str:
        return f"{row[key]:.1%}" if key in row else "-"

    cells = [pct(k) for k in ("val", "val_tta", "ferplus", "balanced", "wild", "wild_macro", "faces_found")]
    cells += [pct("ece_fer2013"), pct("ece_ferplus"), f"{row['faces_per_s']:.0f}"]
    return f"| {row['model']} | " + " | ".join(cells) + " |"


def main() -> None:
    shipped = [e.name for e in list_models() if e.weights and (WEIGHTS_DIR / e.weights).is_file()]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=existing_path, required=True, help="the FER2013 folder (train/ and val/)")
    parser.add_argument("--ferplus", type=existing_file, help="FER+ votes (default: DATA/ferplus.csv)")
    parser.add_argument("--wild", type=existing_dir, help="photos DIR/<class>/*.jpg, run through the whole pipeline")
    parser.add_argument("--models", nargs="+", default=shipped, help="default: every shipped model")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    ferplus = args.ferplus or args.data / "ferplus.csv"
    if not ferplus.is_file():
        parser.error(f"{ferplus} not found; pass --ferplus")
    if args.json:  # a missing folder would otherwise end the run after every model was measured
        args.json.parent.mkdir(parents=True, exist_ok=True)
    use_threads(1)  # the classifier's sessions and torch alike: faces/s on one thread, as the README's table
    print("fp32 on the CPU, ONNX Runtime for the shipped models (faces/s: 1 thread, batch 32)")
    print(HEADER)
    rows = []
    for name in args.models:
        rows.append(measure(name, args.data, args.wild, ferplus))
        print(markdown(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    run(main)
