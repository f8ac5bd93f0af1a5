"""Structured pruning of a FerNet checkpoint: fewer channels per layer, the strongest ones kept, for a fast student.

    python -m training.prune --checkpoint fervideo/weights/fernet_plus.pt --keep 0.5 --out runs/fernet_plus_p50.init.pt

A channel's strength is how much reaches the next layer: its batch-norm scale |gamma| times the L1 norm of
the next layer's weights that read it (the head's, for the last layer). The pruned net starts a new run
with `training.train --init`, usually distilled from the unpruned one (`--teacher`); see docs/training.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from fervideo.core.errors import FervideoError, UsageError
from fervideo.engine.checkpoint import build_model, load_checkpoint, save_checkpoint
from fervideo.engine.models.vgg import ConvBlock, FerNet, FerNetConfig, layer_widths

MULTIPLE = 8  # kept widths are multiples of 8, the vector width the CPU kernels like


def blocks(model: FerNet) -> list[ConvBlock]:
    """The conv blocks in forward order."""
    return [block for stage in model.stages for block in stage]


def strengths(model: FerNet) -> list[torch.Tensor]:
    """Each conv layer's per-channel strength (C_out,): |gamma| times the next layer's L1 norm over that input."""
    convs = blocks(model)
    readers = [b.conv.weight.abs().sum(dim=(0, 2, 3)) for b in convs[1:]]  # (C_in,) of each next conv
    readers.append(model.head.weight.abs().sum(dim=0))  # (C,) the head reads the pooled last layer
    return [b.bn.weight.detach().abs() * r.detach() for b, r in zip(convs, readers, strict=True)]


def kept_widths(widths: list[int], keep: float) -> list[int]:
    """keep times each width, rounded to a multiple of MULTIPLE, at least MULTIPLE and at most the width."""
    return [min(w, max(MULTIPLE, round(w * keep / MULTIPLE) * MULTIPLE)) for w in widths]


def prune(model: FerNet, channels: list[int]) -> FerNet:
    """A FerNet with channels[i] outputs in layer i, holding the strongest channels' weights of model."""
    layers = len(layer_widths(model.config))
    if len(channels) != layers:
        raise UsageError(f"--channels: give {layers} widths, not {len(channels)}")
    config = FerNetConfig(**{**vars(model.config), "channels": list(channels)})
    small = FerNet(config).eval()
    picks = [s.argsort(descending=True)[:c].sort().values for s, c in zip(strengths(model), channels, strict=True)]
    previous = torch.arange(config.in_channels)
    with torch.no_grad():
        for old, new, idx in zip(blocks(model), blocks(small), picks, strict=True):
            new.conv.weight.copy_(old.conv.weight[idx][:, previous])  # (C_out, C_in, 3, 3) sliced both ways
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(new.bn, name).copy_(getattr(old.bn, name)[idx])
            previous = idx
        small.head.weight.copy_(model.head.weight[:, previous])
        small.head.bias.copy_(model.head.bias)
    return small


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m training.prune", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="a FerNet checkpoint (fernet, fernet_plus)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--keep", type=float, help="share of each layer's channels to keep, such as 0.5")
    group.add_argument("--channels", help="every layer's width, comma-separated, such as 24,24,48,48,96,96,192,192")
    parser.add_argument("--out", type=Path, required=True, help="where to write the pruned checkpoint")
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> list[int]:
    """Prune the checkpoint, write it and return the kept widths."""
    if args.out.resolve() == args.checkpoint.resolve():
        raise UsageError("--out is the checkpoint itself; write the pruned one to another file")
    payload = load_checkpoint(args.checkpoint)
    model, spec = build_model(payload)
    if not isinstance(model, FerNet):
        raise UsageError(f"{args.checkpoint}: a {payload['arch']!r} model; pruning works on FerNet models")
    if args.keep is not None and not 0.0 < args.keep <= 1.0:
        raise UsageError(f"--keep {args.keep}: give a share in (0, 1], such as 0.5")
    widths = layer_widths(model.config)
    if args.keep is not None:
        channels = kept_widths(widths, args.keep)
    else:
        try:
            channels = [int(c) for c in args.channels.split(",")]
        except ValueError as exc:
            raise UsageError(f"--channels {args.channels}: give whole numbers separated by commas") from exc
    if any(not 0 < c <= w for c, w in zip(channels, widths, strict=False)):
        raise UsageError(f"--channels {channels}: each must be between 1 and the layer's width {widths}")
    small = prune(model.eval(), channels)
    source = {"checkpoint": str(args.checkpoint), "channels": widths}
    save_checkpoint(args.out, small, payload["arch"], spec, pruned_from=source)
    return channels


if __name__ == "__main__":
    try:
        kept = main(parse_args())
    except FervideoError as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"kept channels {','.join(map(str, kept))}")
