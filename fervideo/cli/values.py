"""The values of the options and arguments: times, durations, paths and export formats, checked as they are parsed."""

from __future__ import annotations

import argparse
import errno
import math
from pathlib import Path

from fervideo.core.paths import NOT_UTF8, is_utf8, printable_name, shortened


def parse_time(text: str) -> float:
    """Seconds from SEC (90, 12.5), MM:SS (1:30) or HH:MM:SS(.ms) (00:01:30.5), as ffmpeg's -ss reads them."""
    parts = text.strip().split(":")
    try:
        if len(parts) > 3 or any(not p.strip() for p in parts):
            raise ValueError
        numbers = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: give seconds (90), MM:SS or HH:MM:SS.ms") from None
    if (
        any(n < 0 or n != n for n in numbers)
        or any(n >= 60 for n in numbers[1:])
        or any(not n.is_integer() for n in numbers[:-1])
    ):
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: minutes and seconds run 0-59, nothing negative")
    seconds = 0.0
    for n in numbers:
        seconds = seconds * 60 + n
    return seconds


_LOOP = "{!r}: a symbolic link in it leads back to itself (a loop)"


def path_arg(text: str) -> Path:
    """A path option or argument; one that runs into a loop of symbolic links is refused as it is parsed."""
    if not is_utf8(text):  # refused here, before any part of a run opens it
        raise argparse.ArgumentTypeError(f"'{printable_name(text)}': {NOT_UTF8}")
    path = Path(text)
    try:
        path.resolve()  # before Python 3.13 a loop raises RuntimeError here; from 3.13 on it passes
        path.stat()  # and the stat of a loop fails with ELOOP on every version
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a path cannot hold a NUL character") from None
    except RuntimeError:
        raise argparse.ArgumentTypeError(_LOOP.format(text)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise argparse.ArgumentTypeError(_LOOP.format(text)) from None
        if exc.errno == errno.ENAMETOOLONG:  # no file system can hold it: said now, not as an internal error later
            too_long = f"{shortened(text)!r}: a name in this path is too long for a file system"
            raise argparse.ArgumentTypeError(too_long) from None
    return path  # a path that does not exist yet, or that the command will find unreadable, is the command's to say


def seconds(text: str) -> float:
    """A duration of 0 or more seconds (--smooth, --min-episode); inf or nan would freeze or void what it sets."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r}: give a finite number of seconds, 0 or more")
    return value


def export_formats(text: str) -> tuple[str, ...]:
    """--export eaf,boris as a tuple of known formats."""
    from fervideo.outputs.exports import FORMATS

    formats = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more of {', '.join(FORMATS)}, comma-separated")
    return formats
