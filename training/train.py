"""Train a registered model on FER2013, keeping the checkpoint with the best validation accuracy.

    python -m training.train --model cnn --data ../shared/fer2013 --out cnn.pt

Shaped like torchvision's references/classification/train.py: parse_args, main, train_one_epoch, evaluate.
Every epoch also writes OUT.last.pt with the optimiser state; --resume OUT.last.pt continues exactly.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from fervideo.cli.common import HelpFormatter
from fervideo.core.errors import UsageError
from fervideo.core.signals import deferred
from fervideo.data.dataset import Split, default_cache_dir, load_split
from fervideo.data.metrics import macro_accuracy, per_class_lines
from fervideo.engine.checkpoint import build_model, load_checkpoint, save_checkpoint
from fervideo.engine.models import create_model, get_entry
from fervideo.engine.torch_model import resolve_device
from training.checks import check_classes, check_numbers, check_out, resumable, resumed_state
from training.cli import script
from training.distill import DistillLoss, soft_targets
from training.epoch import evaluate, train_one_epoch
from training.initial import freeze, init_backbone, same_architecture
from training.recipes import model_config, recipe_for
from training.schedule import fit_epochs, make_optimizer, make_scheduler, use_amp
from training.targets import ferplus_splits

console = Console(stderr=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.train", formatter_class=HelpFormatter, description="Train a fervideo model on FER2013."
    )
    parser.add_argument("--model", default="cnn", help="registered model name")
    parser.add_argument("--data", type=Path, required=True, help="DIR/<split>/<class>/*.jpg or fer2013.csv")
    parser.add_argument("--epochs", type=int, help="default: the model's recipe")
    parser.add_argument("--batch-size", type=int, help="faces per step (default: the recipe's)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the recipe's)")
    parser.add_argument("--optimizer", choices=("adam", "adamw", "sgd"), help="default: the recipe's")
    parser.add_argument("--weight-decay", type=float, help="default: the recipe's")
    parser.add_argument("--label-smoothing", type=float, help="default: the recipe's")
    parser.add_argument("--scheduler", choices=("none", "cosine"), help="default: the recipe's")
    parser.add_argument("--erase", type=float, metavar="P", help="random erasing: probability per face")
    parser.add_argument(
        "--ferplus",
        type=Path,
        metavar="VOTES",
        help="FER+ votes (a CSV, or a pack holding them): train on their shares, select on their majority",
    )
    parser.add_argument(
        "--mix", type=float, metavar="W", help="with --ferplus: targets W * folder label + (1 - W) * vote shares"
    )
    parser.add_argument(
        "--select",
        choices=("accuracy", "balanced"),
        help="keep the epoch with the best val accuracy, or (with --ferplus) the best mean of the FER2013-val "
        "and FER+-val macro accuracies, which does not reward saying the majority class (default: accuracy)",
    )
    parser.add_argument(
        "--oversample",
        type=float,
        metavar="P",
        help="draw each epoch's faces with replacement, a face's chance its folder class's count to the power -P "
        "(0.5: square-root balance, 1: every class as often)",
    )
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="e.g. width=48")
    parser.add_argument("--freeze", help="head | last:K | none: what trains of a pretrained backbone (vit_b16)")
    parser.add_argument("--pretrained", type=Path, help="backbone weights file (vit_b16: vit_b_16-c867db91.pth)")
    parser.add_argument("--random-init", action="store_true", help="start a pretrained-backbone model from scratch")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto: cuda if present")
    parser.add_argument("--out", type=Path, default=None, help="best checkpoint (default: MODEL.pt)")
    parser.add_argument("--resume", type=Path, help="a .last.pt checkpoint to continue from")
    parser.add_argument(
        "--init", type=Path, help="start from this checkpoint's weights with a fresh optimiser and schedule"
    )
    parser.add_argument(
        "--teacher", action="append", type=Path, help="distil from this checkpoint's TTA predictions (repeatable)"
    )
    parser.add_argument("--kd-alpha", type=float, help="weight of the teacher's soft targets (default 0.7)")
    parser.add_argument("--kd-temperature", type=float, help="softening of the teacher's logits (default 2)")
    parser.add_argument(
        "--ema", type=float, metavar="DECAY", help="judge and keep a moving average of the weights (e.g. 0.9998)"
    )
    parser.add_argument(
        "--budget", type=float, metavar="MINUTES", help="fewer epochs if needed, so the whole run ends in time"
    )
    parser.add_argument(
        "--seed", type=int, help="seeds shuffling, augmentation and dropout (default: 0, or the resumed run's)"
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument(
        "--amp",
        default="auto",
        choices=("auto", "on", "off"),
        help="bf16 autocast and channels-last (auto: on CUDA and on CPUs with native bf16)",
    )
    parser.add_argument("--limit", type=int, help="use only N training images, drawn with --seed (smoke tests)")
    parser.add_argument("--cache-dir", type=Path, help="decoded splits (default: $FERVIDEO_CACHE or ~/.cache/fervideo)")
    return parser.parse_args(argv)


def settings(args: argparse.Namespace) -> dict:
    """The recipe for args.model with every flag the user gave applied on top, and the data it trains on."""
    check_numbers(args)
    recipe = dataclasses.asdict(recipe_for(args.model))
    for key in ("epochs", "batch_size", "lr", "optimizer", "weight_decay", "label_smoothing", "scheduler", "freeze"):
        if getattr(args, key) is not None:
            recipe[key] = getattr(args, key)
    if args.budget is not None and args.budget <= 0:
        raise UsageError(f"--budget {args.budget}: give the minutes the run may take, such as 30")
    if args.ema is not None:
        if not 0.0 <= args.ema < 1.0:
            raise UsageError(f"--ema {args.ema}: the decay is a fraction in [0, 1), such as 0.9998")
        recipe["ema"] = args.ema
    if args.erase is not None:
        recipe["augment"] = {**recipe["augment"], "erase": args.erase}
    if args.ferplus is not None:
        recipe["ferplus"] = str(args.ferplus)
    if (args.mix is not None or args.select == "balanced") and args.ferplus is None:
        raise UsageError("--mix and --select balanced need --ferplus VOTES: they weigh folder labels against votes")
    if args.mix is not None:
        if not 0.0 <= args.mix <= 1.0:
            raise UsageError(f"--mix {args.mix}: the folder label's weight is a fraction in [0, 1], such as 0.5")
        recipe["mix"] = args.mix
    if args.select is not None:
        recipe["select"] = args.select
    if args.oversample is not None:
        if not 0.0 <= args.oversample <= 1.0:
            raise UsageError(f"--oversample {args.oversample}: the power is in [0, 1], such as 0.5")
        recipe["oversample"] = args.oversample
    if not args.teacher and (args.kd_alpha, args.kd_temperature) != (None, None):
        raise UsageError("--kd-alpha and --kd-temperature weigh a teacher's targets: name it with --teacher PATH")
    if args.teacher:  # checked now, not after minutes of teacher predictions
        alpha = args.kd_alpha if args.kd_alpha is not None else 0.7
        temperature = args.kd_temperature if args.kd_temperature is not None else 2.0
        if not 0.0 <= alpha <= 1.0 or not temperature > 0:
            raise UsageError(f"--kd-alpha {alpha} must be in [0, 1] and --kd-temperature above 0")
        teachers = [str(p) for p in args.teacher]
        recipe |= {"teacher": teachers, "kd_alpha": alpha, "kd_temperature": temperature}
    # recorded so that the checkpoint says what it learnt from, and a resumed run replays the same faces
    return recipe | {"data": str(args.data), "seed": args.seed or 0, "limit": args.limit}


def main(args: argparse.Namespace) -> dict:
    """Train, evaluate every epoch, keep the best checkpoint by validation accuracy."""
    started = time.perf_counter()
    hp = settings(args)
    out = args.out or Path(f"{args.model}.pt")
    last_path = out.with_suffix(".last.pt")
    check_out(args, out, last_path)
    if args.config and args.init:  # with --resume, the same --config is welcome: the command is run again
        raise UsageError("--config shapes a new model; with --init the checkpoint's config holds")
    spec = get_entry(args.model).preprocess
    start_epoch, best, history, state = 0, {"val_accuracy": -1.0}, [], None
    if args.resume:  # the run's own settings, FER+ targets, seed and limit included
        checkpoint = load_checkpoint(resumable(args.resume))
        state = resumed_state(checkpoint, args)
        hp = {"seed": args.seed or 0} | state["hp"] | ({"epochs": args.epochs} if args.epochs is not None else {})
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = device.type == "cuda"  # one input size: cuDNN times its kernels once
    train, val = load_split(args.data, "train", args.cache_dir), load_split(args.data, "val", args.cache_dir)
    check_classes(train, args.data)
    folder_val = val  # FER2013's own labels, scored beside FER+'s when selection is balanced
    if hp.get("ferplus"):
        train, val = ferplus_splits(Path(args.data), Path(hp["ferplus"]), train, val, hp.get("mix", 0.0))
    if hp.get("limit"):
        keep = np.random.default_rng(hp["seed"]).permutation(len(train))[: hp["limit"]]
        train = Split(train.images[keep], train.labels[keep], None if train.soft is None else train.soft[keep])
    torch.manual_seed(hp["seed"])
    if args.resume:  # the weights come from the checkpoint above, not from a pretrained file
        model, _ = build_model(checkpoint)  # the run's own config, which --init may have set
        start_epoch, best, history = state["epoch"] + 1, state["best"], state["history"]
        init = "resumed"
    elif args.init:  # a warm restart: the weights of an earlier run, a new schedule from the top
        payload = load_checkpoint(args.init)
        model, _ = build_model(payload)
        if not same_architecture(model, args.model, payload["config"]):  # fernet -> fernet_plus is fine
            raise UsageError(f"--init {args.init} holds a {payload['arch']!r} model, not {args.model!r}")
        init = f"from {args.init}"
    else:
        try:
            model = create_model(args.model, **model_config(args.config))
        except TypeError as exc:  # a key the architecture's config does not have
            raise UsageError(f"--config: {exc}") from exc
        init = init_backbone(model, args)
    amp = use_amp(args.amp, device)
    model = model.to(device, memory_format=torch.channels_last if amp else torch.contiguous_format)
    freeze(model, hp.get("freeze", "none"))  # before the optimiser, which takes only trainable parameters
    optimizer = make_optimizer(model, hp)
    scheduler = make_scheduler(optimizer, hp)  # reads hp["epochs"] at every step, so --budget can shorten it
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    ema = None
    if hp.get("ema") is not None:  # buffers too, so batch-norm statistics follow the averaged weights
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(hp["ema"]), use_buffers=True)
        if state is not None:
            ema.load_state_dict(state["ema"])
    kept = model if ema is None else ema.module
    criterion = nn.CrossEntropyLoss(label_smoothing=hp["label_smoothing"])
    teacher, fit = None, criterion
    if hp.get("teacher"):
        cache = args.cache_dir or default_cache_dir()
        teacher = soft_targets(hp["teacher"], train.images, args.device, cache).to(device)  # once, not per epoch
        fit = DistillLoss(hp["kd_alpha"], hp["kd_temperature"], hp["label_smoothing"])
    step_model = torch.compile(model) if args.compile else model
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    console.print(
        f"[bold]{args.model}[/]: {sum(p.numel() for p in model.parameters()):,} parameters "
        f"({trainable:,} trainable, {init} weights), {len(train)} train / {len(val)} val, {device}"
        f"{' bf16' if amp else ''}, {hp}"
    )
    # --budget may cut the plan and, if the pace recovers, restore it: a resumed run keeps the plan it was given
    epoch, planned = start_epoch, args.epochs or (state or {}).get("planned", hp["epochs"])
    hp["epochs"] = planned if args.budget else hp["epochs"]  # a new budget starts from the plan, as a new run does
    while epoch < hp["epochs"]:
        tic = time.perf_counter()
        torch.manual_seed(hp["seed"] + epoch)  # dropout and augmentation replay exactly on resume
        generator = torch.Generator().manual_seed(hp["seed"] * 1000 + epoch)
        train_loss = train_one_epoch(step_model, fit, optimizer, train, spec, hp, device, generator, amp, teacher, ema)
        judged = step_model if ema is None else kept
        rep = evaluate(judged, criterion, val, spec, device, amp)
        score = rep["accuracy"]
        extra = {}
        if hp.get("select") == "balanced":
            folder = evaluate(judged, criterion, folder_val, spec, device, amp)
            score = (macro_accuracy(rep) + macro_accuracy(folder)) / 2
            extra = {"val_fer2013_accuracy": folder["accuracy"], "val_fer2013_per_class": folder["per_class"]}
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": rep["loss"],
            "val_accuracy": rep["accuracy"],
            "val_labels": "ferplus-majority" if hp.get("ferplus") else "fer2013",
            "val_score": score,
            "seconds": time.perf_counter() - tic,
        } | extra
        history.append(row)
        if args.budget:  # refitted every epoch from the latest ones, so a busy machine shortens the plan
            recent = [r["seconds"] for r in history[-3:]]
            left = args.budget * 60 - (time.perf_counter() - started)
            hp["epochs"] = fit_epochs(planned, epoch + 1, sum(recent) / len(recent), left)
        scheduler.step()
        console.print(
            f"epoch {epoch + 1}/{hp['epochs']}  train loss {train_loss:.4f}  val loss {rep['loss']:.4f}  "
            f"val acc {rep['accuracy']:.2%}"
            + (f"  FER2013 {extra['val_fer2013_accuracy']:.2%}  balanced {score:.2%}" if extra else "")
            + f"  ({row['seconds']:.0f}s)"
        )
        improved = score > best.get("val_score", best["val_accuracy"])
        if improved:
            best = {**row, "val_per_class": rep["per_class"], "val_confusion": rep["confusion"], "n_val": rep["n"]}
        train_state = {
            "epoch": epoch,
            "planned": planned,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "best": best,
            "history": history,
            "hp": _plain(hp),
        } | ({} if ema is None else {"ema": ema.state_dict()})
        with deferred():  # a stop waits for the pair: a best checkpoint never runs ahead of the state to resume
            if improved:
                save_checkpoint(out, kept, args.model, spec, metrics=best, hp=_plain(hp))
            # the settings at the top too, so that an export of OUT.last.pt still says how it was trained
            save_checkpoint(last_path, model, args.model, spec, metrics=row, hp=_plain(hp), train_state=train_state)
        epoch += 1
    console.print(f"best val accuracy {best['val_accuracy']:.2%} (epoch {best['epoch'] + 1}) -> {out}")
    if hp.get("select") == "balanced":
        console.print(f"kept for its balanced score {best['val_score']:.2%} (FER2013 and FER+ val macro accuracy)")
    if "val_per_class" in best:
        console.print("\n".join(per_class_lines({"per_class": best["val_per_class"]})))
    return best


def _plain(hp: dict) -> dict:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in hp.items()}


def after_stop(args: argparse.Namespace) -> str:
    """How to go on after a stop: the command to resume, or to start again."""
    last = (args.out or Path(f"{args.model}.pt")).with_suffix(".last.pt")
    if last.is_file():
        return f"every finished epoch is kept: continue with the same command and --resume {last}"
    return "no epoch finished: start it again without --resume"


def cli(argv: list[str] | None = None) -> None:
    """python -m training.train: one line for a mistake or a stop, never a traceback."""
    script(main, parse_args, argv, after_stop)


if __name__ == "__main__":
    cli()
