"""--draw: what the annotated video adds under the boxes and labels (fervideo.outputs.draw.LAYERS)."""

from __future__ import annotations

import argparse


def draw_layers(text: str) -> tuple[str, ...]:
    """--draw landmarks,pose as a tuple of known layers."""
    from fervideo.outputs.draw import LAYERS  # OpenCV loads only once an option asks for drawing

    layers = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [layer for layer in layers if layer not in LAYERS]
    if unknown or not layers:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more of {', '.join(LAYERS)}, comma-separated")
    return layers


def add_draw_option(parser: argparse.ArgumentParser) -> None:
    """--draw, for the commands that write the annotated video (analyze, batch)."""
    parser.add_argument(
        "--draw",
        type=draw_layers,
        default=(),
        metavar="LAYERS",
        help="also draw on the annotated video, comma-separated: landmarks (the face mesh's points), pose (the "
        "head's axes: red across the face, green up, blue out of it) (default: neither)",
    )
