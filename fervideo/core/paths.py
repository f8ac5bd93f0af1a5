"""Local files as OpenCV and ffmpeg must be given them, so that a name is never read as a URL or a device."""

from __future__ import annotations

import os
from pathlib import Path

from fervideo.core.errors import InputError


def local(path: str | Path) -> str:
    """An absolute path: ffmpeg reads `clip1:2.mp4`, `run:1/x.mp4` or `pipe:x.mp4` as protocols, never `/...`."""
    if not is_utf8(path):  # OpenCV takes names as UTF-8: a byte it cannot encode crashed the process (SIGSEGV)
        raise InputError(f"{printable_name(path)}: {NOT_UTF8}")
    return str(Path(path).absolute())


NOT_UTF8 = "the name is not valid UTF-8, which OpenCV and ffmpeg cannot open; rename it"


def is_utf8(path: str | Path) -> bool:
    """Whether the name can be given to OpenCV: no byte that Python kept as a lone surrogate."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shortened(name: str) -> str:
    """A long name as its head and tail, for a one-line message."""
    return name if len(name) <= 80 else f"{name[:40]}...{name[-20:]}"


def printable_name(path: str | Path) -> str:
    """The name as its bytes read, undecodable ones as \\xNN: printable whatever the name holds."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")
