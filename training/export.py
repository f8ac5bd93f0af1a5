"""Turn a training run's best checkpoint into a file to ship: no optimiser state, optionally half-size weights.

    python -m training.export --checkpoint runs/fernet.pt --out fervideo/weights/fernet.pt --half

The exported file keeps everything that describes the model (architecture, config, preprocessing, class order,
metrics, recipe). Weights stored as float16 load back as float32; measure the exported file with `fervideo eval`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from fervideo.checkpoint import build_model, load_checkpoint, save_checkpoint
from fervideo.errors import FervideoError, UsageError

console = Console(stderr=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Export a checkpoint for shipping.")
    parser.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint written by training.train")
    parser.add_argument("--out", type=Path, required=True, help="where the exported checkpoint goes")
    parser.add_argument("--half", action="store_true", help="store the weights as float16 (half the size)")
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> Path:
    """Rebuild the model from the checkpoint (so a broken one fails here) and write it without training state."""
    if args.out.resolve() == args.checkpoint.resolve():
        raise UsageError("--out is the checkpoint itself; export to another file")
    payload = load_checkpoint(args.checkpoint)
    model, spec = build_model(payload)
    kept = {k: payload[k] for k in ("hp",) if k in payload}
    save_checkpoint(args.out, model, payload["arch"], spec, payload.get("metrics"), half=args.half, **kept)
    size = args.out.stat().st_size / 2**20
    console.print(f"{args.checkpoint} -> {args.out} ({size:.1f} MiB{', float16 weights' if args.half else ''})")
    return args.out


if __name__ == "__main__":
    try:
        main(parse_args())
    except FervideoError as exc:
        raise SystemExit(f"error: {exc}") from None
