"""Local files as OpenCV and ffmpeg must be given them, so that a name is never read as a URL or a device."""

from __future__ import annotations

from pathlib import Path


def local(path: str | Path) -> str:
    """An absolute path: ffmpeg reads `clip1:2.mp4`, `run:1/x.mp4` or `pipe:x.mp4` as protocols, never `/...`."""
    return str(Path(path).absolute())
