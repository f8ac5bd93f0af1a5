"""training.train's checks, made before any data loads or epoch runs: a mistake costs one line, not an hour."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from fervideo.core.atomic import prepare_out_dir, refuse_special
from fervideo.core.errors import InputError, ModelError, UsageError
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import Split, left_out
from training.recipes import model_config

# flags that shape a run: a resumed run keeps its own, so one given with another value is refused, not ignored
RUN_FLAGS = ("batch_size", "lr", "optimizer", "weight_decay", "label_smoothing", "scheduler", "freeze", "mix")
RUN_FLAGS += ("select", "oversample", "ema", "seed", "limit")
RECORDED_SINCE = ("seed", "limit")  # older checkpoints lack them: any value is taken


def check_numbers(args: argparse.Namespace) -> None:
    """Counts, rates and shares outside their range, which torch would reject mid-run or silently accept."""
    rules = {
        "epochs": (lambda v: v >= 1, "at least 1"),
        "batch_size": (lambda v: v >= 1, "at least 1 face per step"),
        "lr": (lambda v: 0 <= v < math.inf, "0 or more, such as 1e-3"),  # 0 keeps the weights (a warm-start check)
        "weight_decay": (lambda v: 0 <= v < math.inf, "0 or more"),
        "label_smoothing": (lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
        "erase": (lambda v: 0 <= v <= 1, "a probability in [0, 1]"),
        "limit": (lambda v: v >= 1, "at least 1 training image"),
    }
    for key, (ok, expected) in rules.items():
        value = getattr(args, key)
        if value is not None and not ok(value):
            raise UsageError(f"--{key.replace('_', '-')} {value}: expected {expected}")


def check_out(args: argparse.Namespace, out: Path, last: Path) -> None:
    """--out and OUT.last.pt must be files fervideo may write, and neither may be one of the run's inputs."""
    inputs = [args.data, args.init, args.ferplus, args.pretrained, *(args.teacher or [])]
    taken = {Path(p).resolve() for p in inputs if p is not None}
    resume = {Path(args.resume).resolve()} if args.resume else set()
    for path, refused in ((out, taken | resume), (last, taken)):  # OUT.last.pt is --resume's file, rewritten
        if path.resolve() in refused:
            raise UsageError(f"--out {out}: {path} is one of the run's inputs; write the checkpoint elsewhere")
    refuse_special([out, last])  # a folder named as --out, found now rather than when the first epoch ends
    prepare_out_dir(out.parent)  # a folder that cannot be made or written fails now, not after the first epoch


def resumed_state(payload: dict, args: argparse.Namespace) -> dict:
    """The training state of a .last.pt checkpoint, refused when it is another model's or the flags change it."""
    if args.init is not None:
        raise UsageError("--resume continues a run, --init starts a new one from its weights: give one of them")
    state = payload.get("train_state")
    if not isinstance(state, dict) or "hp" not in state:
        last = Path(args.resume).with_suffix(".last.pt")
        raise ModelError(
            f"--resume {args.resume}: holds no training state (a best or exported checkpoint); pass {last}"
        )
    if payload["arch"] != args.model:
        raise UsageError(f"--resume {args.resume} continues a {payload['arch']!r} run; pass --model {payload['arch']}")
    for key, value in model_config(args.config).items():  # the run's own command again, --config included
        if payload["config"].get(key) != value:
            raise UsageError(f"--config {key}={value}: the run in {args.resume} has {payload['config'].get(key)!r}")
    stored = state["hp"]
    for key, value in given(args).items():
        was = stored.get("augment", {}).get("erase") if key == "erase" else stored.get(key)
        if value != was and not (key in RECORDED_SINCE and key not in stored):
            raise UsageError(
                f"--{key.replace('_', '-')} {value}: the run in {args.resume} was trained with {was!r}; a resumed run "
                "keeps its settings (only --epochs and --budget change), --init starts a new one from its weights"
            )
    return state


def given(args: argparse.Namespace) -> dict:
    """The run-shaping settings the command line names explicitly, recipe defaults left out."""
    flags = {key: getattr(args, key) for key in RUN_FLAGS if getattr(args, key) is not None}
    if args.erase is not None:
        flags["erase"] = args.erase
    if args.ferplus is not None:
        flags["ferplus"] = str(args.ferplus)
    if args.teacher:
        flags["teacher"] = [str(p) for p in args.teacher]
    return flags


def resumable(path: Path) -> Path:
    """--resume's file, or a line saying that a run stopped before its first epoch ended has none."""
    if not path.exists():
        raise ModelError(
            f"--resume {path}: no such file; a run stopped in its first epoch left nothing to resume: "
            "start it again without --resume"
        )
    return path


def check_classes(train: Split, data: Path) -> None:
    """Every class has training faces: a model trained without one never predicts it, and no one is told."""
    counts = np.bincount(train.labels, minlength=len(EMOTIONS))
    missing = [EMOTIONS[i] for i in np.flatnonzero(counts == 0)]
    if missing:
        ignored = left_out(Path(data) / "train")
        hint = f" (passed over: {', '.join(p.name for p in ignored[:5])})" if ignored else ""
        raise InputError(
            f"{data}: no training faces of {', '.join(missing)}; every class needs DATA/train/<class>/*.jpg, "
            f"the classes named {', '.join(EMOTIONS)}{hint}"
        )
