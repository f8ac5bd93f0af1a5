"""fervideo eval and fervideo models: how good the models are, and which there are."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fervideo.cli.common import EXIT_OK, add_align_option, add_model_options, printable
from fervideo.cli.console import Progress, Table, err, out
from fervideo.cli.values import path_arg
from fervideo.core.choices import TORCH_HINT
from fervideo.core.errors import UsageError
from fervideo.core.labels import EMOTIONS
from fervideo.data.metrics import per_class_lines


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register both subcommands."""
    evaluate = commands.add_parser(
        "eval", help="accuracy and calibration of a model on a FER2013 split or on photos, per class and confused"
    )
    evaluate.add_argument(
        "--data",
        type=path_arg,
        required=True,
        metavar="DIR",
        help="DIR/<split>/<class>/*.jpg, a fer2013.csv or a pack; with --photos, DIR/<class>/*.jpg of any size",
    )
    evaluate.add_argument("--split", default="val", choices=("val", "test"), help="default: val")
    kind = evaluate.add_mutually_exclusive_group()
    kind.add_argument(
        "--photos",
        action="store_true",
        help="run each photo through the whole pipeline (detect, crop, classify) and score its largest face",
    )
    kind.add_argument(
        "--labels", type=path_arg, metavar="FERPLUS_CSV", help="score against FER+ majority labels (folder data only)"
    )
    add_model_options(evaluate, batch_size=256)
    add_align_option(evaluate)  # with --photos
    evaluate.add_argument(
        "--cache-dir",
        type=path_arg,
        metavar="DIR",
        help="decoded splits (default: $FERVIDEO_CACHE or ~/.cache/fervideo)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    evaluate.set_defaults(run=run_eval)
    models = commands.add_parser("models", help="list the registered models")
    models.add_argument("--json", action="store_true", help="print one JSON list to stdout")
    models.set_defaults(run=run_models)


def run_eval(args: argparse.Namespace) -> int:
    """fervideo eval: accuracy, per-class table and confusion matrix, or all of it as one JSON object."""
    from fervideo.engine.pipeline import AnalyzeOptions
    from fervideo.run.evaluation import evaluate_photos, evaluate_split

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be 1 or more, not {args.batch_size}")
    _warn_left_out(args.data if args.photos else args.data / args.split)
    with Progress(err, "photos" if args.photos else f"{args.split} faces") as bar:  # draws only on a terminal
        progress = bar.update
        if args.photos:
            options = AnalyzeOptions(
                model=args.model,
                device=args.device,
                precision=args.precision,
                runtime=args.runtime,
                align=args.align,
                tta=args.tta,
                batch_size=args.batch_size,
            )
            result = evaluate_photos(args.data, options, progress)
        else:
            result = evaluate_split(
                args.data,
                args.split,
                args.model,
                args.device,
                args.tta,
                args.batch_size,
                args.cache_dir,
                progress=progress,
                precision=args.precision,
                labels=args.labels,
                runtime=args.runtime,
            )
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return EXIT_OK
    _print_eval(result)
    return EXIT_OK


def _print_eval(result: dict) -> None:
    model, classes = result["model"], result["classes"]
    correct = sum(row["correct"] for row in result["per_class"].values())
    photos = result["split"] == "photos"
    what = f"photos in {result['data']}" if photos else f"FER2013 {result['split']} split of {result['data']}"
    labels = " (FER+ majority labels)" if result["labels"] == "ferplus-majority" else ""
    out.print(
        f"{model['name']} (sha256 {model['sha256'][:12]}, {model.get('runtime', 'torch')} {model['precision']}, "
        f"temperature {model['temperature']:.2f}),"
        f" tta {'on' if result['tta'] else 'off'}, {what}{labels}"
    )
    accuracy = out.bold(f"accuracy {result['accuracy']:.2%}")
    out.print(
        f"{accuracy} ({correct}/{result['n']}), "
        f"macro accuracy {result['macro_accuracy']:.2%}, calibration error (ECE, 15 bins) {result['ece']:.2%}"
    )
    if photos:
        missed = len(result["no_face_files"])
        out.print(f"faces found in {result['faces_found']:.1%} of the photos; {missed} without a face count as wrong")
        if unreadable := result["unreadable_files"]:  # among those: a broken file is not a photo without a face
            names = ", ".join(printable(name) for name in unreadable[:3]) + (", ..." if len(unreadable) > 3 else "")
            err.warning(f"{len(unreadable)} of them could not be read at all (damaged or not images): {names}")
    out.print("\n".join(per_class_lines(result)))
    extra = ("no face",) if photos else ()
    table = Table("true \\ predicted", *classes, *extra, title="confusion matrix")
    for i, (name, row) in enumerate(zip(classes, result["confusion"], strict=True)):
        cells = [out.bold(str(v)) if i == j else str(v) for j, v in enumerate(row)]
        table.add_row(name, *cells, *([str(result["no_face"][name])] if photos else []))
    out.table(table)


def run_models(args: argparse.Namespace) -> int:
    """fervideo models: the registered models, their size, input and shipped validation accuracy."""
    from fervideo.engine.runtime import torch_installed
    from fervideo.run.evaluation import model_catalog

    rows = model_catalog()
    if not torch_installed():  # the catalogue came from the ONNX files: say what a lean install leaves out
        err.print(f"torch is not installed: these are the shipped models ONNX Runtime runs; {TORCH_HINT}")
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    table = Table("model", "parameters", "input", "val accuracy", "description")  # on a terminal the last wraps
    for row in rows:
        accuracy = "-" if row["val_accuracy"] is None else f"{row['val_accuracy']:.1%}"
        if row.get("val_labels") == "ferplus-majority":
            accuracy += " (FER+)"
        name = f"{row['name']} (default)" if row["default"] else row["name"]
        parameters = "-" if row["parameters"] is None else f"{row['parameters']:,}"
        table.add_row(name, parameters, row["input"], accuracy, row["description"])
    out.table(table)
    return EXIT_OK


def _warn_left_out(folder: Path) -> None:
    """One warning naming what eval will not count: folders that are no class (names are lower case) and files
    that are not .jpg, .jpeg or .png."""
    from fervideo.data.dataset import left_out

    if skipped := left_out(folder):
        names = ", ".join(printable(path.relative_to(folder)) for path in skipped[:4]) + ", ..." * (len(skipped) > 4)
        err.warning(
            f"{len(skipped)} left out, not counted: {names} (classes: {', '.join(EMOTIONS)}; .jpg, .jpeg, .png)"
        )
