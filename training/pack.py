"""Pack decoded FER2013 splits into one file that travels, for training on another machine.

    python -m training.pack --data ../shared/fer2013 --out fer2013.npz.xz [--ferplus ../shared/fer2013/ferplus.csv]

The pack is what `--data` of training.train and `fervideo eval` read: train+val decode to 71 MiB of uint8,
which xz brings to about 56 MiB, under what the GPU machine's working tree may carry. With --ferplus the pack
also holds each image's FER+ votes, and `training.train --ferplus PACK` trains on them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from fervideo.cli.common import HelpFormatter
from fervideo.core.errors import FervideoError, UsageError
from fervideo.data.dataset import PACK_SUFFIXES, load_split, save_pack, split_files
from fervideo.data.ferplus import read_votes, vote_matrix

console = Console(stderr=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.pack",
        formatter_class=HelpFormatter,
        description="Pack decoded FER2013 splits into one .npz or .npz.xz file.",
    )
    parser.add_argument("--data", type=Path, required=True, help="DIR/<split>/<class>/*.jpg or fer2013.csv")
    parser.add_argument("--out", type=Path, required=True, help="the pack: NAME.npz, or NAME.npz.xz to compress")
    parser.add_argument(
        "--splits", nargs="+", default=["train", "val"], choices=("train", "val", "test"), help="the splits to pack"
    )
    parser.add_argument("--cache-dir", type=Path, help="where decoded splits are cached")
    parser.add_argument("--ferplus", type=Path, metavar="CSV", help="also pack these FER+ votes (folder data only)")
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> Path:
    """Decode each split once and write them together."""
    if not args.out.name.endswith(PACK_SUFFIXES):
        raise UsageError(f"--out {args.out}: name the pack NAME.npz or NAME.npz.xz")
    if not args.out.parent.is_dir():
        raise UsageError(f"--out {args.out}: no folder {args.out.parent}")
    splits = {name: load_split(args.data, name, args.cache_dir) for name in args.splits}
    votes = None
    if args.ferplus:
        table = read_votes(args.ferplus)
        votes = {name: vote_matrix(table, split_files(args.data, name)) for name in args.splits}
    save_pack(args.out, splits, votes)
    sizes = ", ".join(f"{len(split)} {name}" for name, split in splits.items())
    console.print(f"{sizes} -> {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")
    return args.out


if __name__ == "__main__":
    try:
        main(parse_args())
    except (FervideoError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from exc
