"""What the benchmarks' command lines share: argparse types that turn a bad value away in one line, and main()'s
errors (an unknown model, unreadable data, a package the benchmark needs) printed as one line, not a traceback.

Not a benchmark: the scripts import it by name, as they import each other (benchmarks/ is on the path when one runs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def positive_int(text: str) -> int:
    """An integer of 1 or more."""
    value = int(text)  # a ValueError: argparse says "invalid positive_int value"
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def non_negative_int(text: str) -> int:
    """An integer of 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive_float(text: str) -> float:
    """A number above 0."""
    value = float(text)
    if not value > 0 or value == float("inf"):  # NaN and inf too
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text}")
    return value


def non_negative_float(text: str) -> float:
    """A number of 0 or more."""
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of 0 or more, not {text}")
    return value


def existing_file(text: str) -> Path:
    """A path to a file that is there."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} not found" if not path.exists() else f"{text} is not a file")
    return path


def existing_path(text: str) -> Path:
    """A path to a file or folder that is there."""
    if not Path(text).exists():
        raise argparse.ArgumentTypeError(f"{text} not found")
    return Path(text)


def existing_dir(text: str) -> Path:
    """A path to a folder that is there."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} not found" if not path.exists() else f"{text} is not a folder")
    return path


def needs(module: str, hint: str) -> None:
    """Import module, or end with one line saying what to install."""
    try:
        __import__(module)
    except ImportError:
        fail(f"this benchmark needs {module.split('.')[0]}, which is not installed ({hint})")


def fail(message: str) -> None:
    """End the benchmark with one line on stderr, in argparse's form, and exit status 2."""
    print(f"{Path(sys.argv[0]).name}: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(2)


def run(main: Callable[[], object]) -> None:
    """Call main(); fervideo's own errors (an unknown model, a missing data folder) end it in one line."""
    from fervideo.core.errors import FervideoError

    try:
        main()
    except FervideoError as err:
        fail(str(err))
