"""Where a run's weights start: a pretrained backbone or another run's checkpoint, and what stays frozen."""

from __future__ import annotations

import argparse

import torch
from torch import nn

from fervideo.core.errors import UsageError
from fervideo.engine.models import create_model, get_entry


def init_backbone(model: nn.Module, args: argparse.Namespace) -> str:
    """Load the pretrained backbone the model's registry entry knows, unless --random-init; says which."""
    load = get_entry(args.model).pretrained
    if load is None:
        if args.pretrained:
            raise UsageError(f"--pretrained: model {args.model!r} has no pretrained backbone; leave the flag out")
        return "random"
    if args.random_init:
        if args.pretrained:
            raise UsageError("--pretrained and --random-init contradict each other; pass one of them")
        return "random"
    load(model, args.pretrained)
    return str(args.pretrained or "pretrained")


def freeze(model: nn.Module, mode: str) -> None:
    """Leave trainable only what --freeze names; models without a backbone to freeze train whole."""
    if hasattr(model, "freeze"):
        model.freeze(mode)
    elif mode != "none":
        raise UsageError(f"--freeze {mode}: this model has no pretrained backbone to freeze; use --freeze none")


def same_architecture(model: nn.Module, name: str, config: dict) -> bool:
    """Whether model is the architecture name builds (fernet and fernet_plus are), with config."""
    try:
        with torch.device("meta"):  # only its type is wanted: no weights allocated
            return type(model) is type(create_model(name, **config))
    except (TypeError, ValueError):  # a config of another architecture
        return False
