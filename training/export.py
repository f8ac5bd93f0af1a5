"""Turn a training run's best checkpoint into a file to ship: no optimiser state, optionally half-size weights.

    python -m training.export --checkpoint runs/fernet.pt --out fervideo/weights/fernet.pt --half \
        --calibrate ../shared/fer2013 [--labels ../shared/fer2013/ferplus.csv]

The exported file keeps everything that describes the model (architecture, config, preprocessing, class order,
metrics, recipe). Weights stored as float16 load back as float32; measure the exported file with `fervideo eval`.
--calibrate fits the one temperature that makes the model's probabilities honest on the validation split
(against FER+ majority labels with --labels) and stores it, with the calibration error before and after.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from torch import nn

from fervideo.cli.common import HelpFormatter
from fervideo.core.atomic import prepare_out_dir
from fervideo.core.errors import UsageError
from fervideo.data.dataset import load_split
from fervideo.data.ferplus import majority_split
from fervideo.engine.calibration import expected_calibration_error, fit_temperature, softmax
from fervideo.engine.checkpoint import build_model, load_checkpoint, save_checkpoint
from fervideo.engine.preprocess import PreprocessSpec
from training.cli import script
from training.initial import same_architecture
from training.onnx_export import MAX_DROP, check_out, describe, export_float, export_int8, trace
from training.prior import fold_adjustment, logits_of, train_prior

console = Console(stderr=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.export", formatter_class=HelpFormatter, description="Export a checkpoint for shipping."
    )
    parser.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint written by training.train")
    parser.add_argument("--out", type=Path, help="where the exported checkpoint goes")
    parser.add_argument(
        "--name", help="ship it under this registered name of the same architecture (fernet_plus -> fernet_lite)"
    )
    parser.add_argument("--half", action="store_true", help="store the weights as float16 (half the size)")
    parser.add_argument("--calibrate", type=Path, metavar="DATA", help="fit the temperature on DATA's val split")
    parser.add_argument(
        "--labels", type=Path, metavar="FERPLUS_CSV", help="FER+ majority labels for --calibrate and --int8's check"
    )
    parser.add_argument(
        "--both-labels",
        action="store_true",
        help="with --calibrate and --labels: fit the temperature on FER2013 val's folder labels and FER+ val's "
        "majority labels together, for a model trained on both",
    )
    parser.add_argument(
        "--logit-adjust",
        type=float,
        metavar="TAU",
        help="with --calibrate DATA: fold -TAU * log prior into the last layer's bias (the prior: the model's mean "
        "prediction on DATA's training faces); choose TAU on validation with `python -m training.prior`",
    )
    parser.add_argument("--onnx", type=Path, metavar="FILE", help="also write the model as ONNX (FILE.onnx)")
    parser.add_argument(
        "--int8",
        type=Path,
        metavar="DATA",
        help="with --onnx: an int8 twin (FILE.int8.onnx) calibrated on DATA's train faces, kept if its val accuracy "
        "stays within 0.3 points",
    )
    parser.add_argument(
        "--wild",
        type=Path,
        metavar="DIR",
        help="with --int8: photos DIR/<class>/*.jpg that the twin must also score within 0.3 points on, run through "
        "the whole pipeline (detect, crop, classify) in float32 and int8",
    )
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> Path:
    """Rebuild the model from the checkpoint (so a broken one fails here) and write it without training state."""
    check(args)
    if args.out is None:  # ONNX of a checkpoint as it is, e.g. a shipped one
        return onnx_files(args, args.checkpoint)
    payload = load_checkpoint(args.checkpoint)
    model, spec = build_model(payload)
    kept = {k: payload[k] for k in ("hp", "temperature") if k in payload}
    metrics = dict(payload.get("metrics") or {})
    if args.logit_adjust:
        prior = train_prior(model, spec, args.calibrate)
        fold_adjustment(model, prior, args.logit_adjust)
        kept["logit_adjustment"] = {"tau": args.logit_adjust, "prior": [round(float(p), 6) for p in prior]}
        console.print(f"logit adjustment tau {args.logit_adjust:g}, prior {np.round(prior, 3).tolist()}")
    if args.calibrate:
        # fitted on the weights as shipped: float16 rounding moves the logits a little
        shipped = model.half().float() if args.half else model
        calibration = calibrate(shipped, spec, args.calibrate, args.labels, args.both_labels)
        kept["temperature"] = calibration["temperature"]
        metrics["calibration"] = calibration
        console.print(
            f"temperature {calibration['temperature']:.3f}: val calibration error {calibration['ece_before']:.2%} "
            f"-> {calibration['ece']:.2%} ({calibration['labels']} labels, {calibration['n']} faces)"
        )
    arch = payload["arch"]
    if args.name is not None:
        if not same_architecture(model, args.name, payload["config"]):
            raise UsageError(f"--name {args.name}: not a registered name for this {arch!r} model's architecture")
        arch, kept["renamed_from"] = args.name, payload["arch"]
    save_checkpoint(args.out, model, arch, spec, metrics, half=args.half, **kept)
    size = args.out.stat().st_size / 2**20
    console.print(f"{args.checkpoint} -> {args.out} ({size:.1f} MiB{', float16 weights' if args.half else ''})")
    return onnx_files(args, args.out) if args.onnx else args.out


def check(args: argparse.Namespace) -> None:
    """Options that do not fit together, before anything loads."""
    if args.out is None and args.onnx is None:
        raise UsageError("nothing to write: give --out FILE.pt, --onnx FILE.onnx or both")
    if args.out is not None:
        check_inputs(args)
    if args.out is None and (args.half or args.calibrate or args.name):
        raise UsageError("--half, --calibrate and --name shape a new checkpoint: give --out FILE.pt")
    if args.logit_adjust is not None and not args.calibrate:
        raise UsageError("--logit-adjust TAU needs --calibrate DATA: the prior comes from DATA's training faces")
    if args.both_labels and not (args.calibrate and args.labels):
        raise UsageError("--both-labels needs --calibrate DATA and --labels FERPLUS_CSV")
    if args.labels and not (args.calibrate or args.int8):
        raise UsageError("--labels goes with --calibrate or --int8 DATA: they name the split it labels")
    if args.wild and not args.int8:
        raise UsageError("--wild checks the int8 twin: give --int8 DATA")
    if args.wild and not args.wild.is_dir():
        raise UsageError(f"--wild {args.wild}: no such folder; expected DIR/<class>/*.jpg")
    if args.int8 and not args.onnx:
        raise UsageError("--int8 makes an ONNX twin: give --onnx FILE.onnx")
    if args.onnx is not None:
        check_out(args.onnx)


def check_inputs(args: argparse.Namespace) -> None:
    """--out may not replace the checkpoint or the data it is calibrated on, and its folder must be writable."""
    if args.out.resolve() == args.checkpoint.resolve():
        raise UsageError("--out is the checkpoint itself; export to another file")
    inputs = (args.calibrate, args.labels, args.int8, args.wild)
    if args.out.resolve() in {p.resolve() for p in inputs if p is not None}:
        raise UsageError(f"--out {args.out} is one of the export's inputs; export to another file")
    prepare_out_dir(args.out.parent)  # a folder that cannot be made fails now, not after minutes of calibration


def onnx_files(args: argparse.Namespace, checkpoint: Path) -> Path:
    """The ONNX file of checkpoint (as written), and its int8 twin with --int8 when that keeps the accuracy."""
    payload = load_checkpoint(checkpoint)
    model, spec = build_model(payload)
    graph, description = trace(model, spec), describe(payload, checkpoint, model)
    path = export_float(graph, description, args.onnx)
    console.print(f"{checkpoint} -> {path} ({path.stat().st_size / 2**20:.1f} MiB, float32)")
    if args.int8:
        checks = {"fer2013 val": load_split(args.int8, "val")}
        if args.labels:
            checks["ferplus val"] = majority_split(args.int8, "val", checks["fer2013 val"], args.labels)
        twin = args.onnx.with_suffix(".int8.onnx")
        written, scores = export_int8(graph, spec, description, args.int8, twin, checks, args.wild)
        for name, (before, after) in scores.items():
            console.print(f"{name}: float32 {before:.2f}%, int8 {after:.2f}% ({after - before:+.2f} points)")
        if written is None:
            twin.unlink(missing_ok=True)  # an older twin would be taken for this model's
            console.print(f"int8 loses more than {MAX_DROP} points: no {twin.name} written")
        else:
            console.print(f"-> {written} ({written.stat().st_size / 2**20:.1f} MiB, int8)")
    return path


@torch.inference_mode()
def calibrate(
    model: nn.Module, spec: PreprocessSpec, data: Path, labels: Path | None = None, both: bool = False
) -> dict:
    """The temperature fitted on data's val split in float32, and the calibration error before and after it."""
    folder = load_split(data, "val")
    sets = {"fer2013": folder}
    if labels is not None:
        sets = {"ferplus-majority": majority_split(data, "val", folder, labels)} | (sets if both else {})
    logits = {name: logits_of(model, spec, split.images) for name, split in sets.items()}
    temperature = fit_temperature(
        np.concatenate(list(logits.values())), np.concatenate([split.labels for split in sets.values()])
    )
    result = {"temperature": temperature, "labels": " + ".join(sets), "n": sum(len(s) for s in sets.values())}
    for name, split in sets.items():  # the first set's figures under the plain keys, as before
        suffix = "" if name == next(iter(sets)) else f"_{name}"
        result[f"ece_before{suffix}"] = expected_calibration_error(softmax(logits[name]), split.labels)
        result[f"ece{suffix}"] = expected_calibration_error(softmax(logits[name], temperature), split.labels)
    return result


def cli(argv: list[str] | None = None) -> None:
    """python -m training.export: one line for a mistake or a stop; a stopped export leaves no file behind."""
    script(main, parse_args, argv)


if __name__ == "__main__":
    cli()
