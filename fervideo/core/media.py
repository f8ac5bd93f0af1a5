"""What ffmpeg says about a media file: its streams, and whether its picture changes size mid-stream.

The ffmpeg is imageio-ffmpeg's when it is installed, else the one on PATH (no ffprobe needed); OpenCV alone hides
both a stream's audio and a size change.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fervideo.core.paths import local


class FfmpegUnavailable(Exception):
    """No ffmpeg with an H.264 encoder could be found; the message says why."""


NO_FFMPEG = "neither imageio-ffmpeg nor an ffmpeg on PATH is installed"
ORIGINS: dict[str, str] = {}  # each ffmpeg found: "imageio-ffmpeg", or "ffmpeg" for the one on PATH


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the first ffmpeg with libx264: imageio-ffmpeg's (or $IMAGEIO_FFMPEG_EXE), then the one on PATH."""
    candidates, problems = [], []
    try:
        import imageio_ffmpeg
    except ImportError:
        pass  # the lean install has no imageio-ffmpeg (its ffmpeg is 165 MB): the `video` extra adds it
    else:
        try:
            candidates.append((imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg"))
        except RuntimeError as exc:
            problems.append(f"imageio-ffmpeg's ffmpeg cannot run: {exc}")
    on_path = shutil.which("ffmpeg")
    if on_path is not None:
        candidates.append((on_path, "ffmpeg"))
    for exe, origin in candidates:
        try:
            encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"{exe} cannot run: {exc}")
            continue
        if " libx264 " in encoders.stdout:
            ORIGINS[exe] = origin
            return exe
        problems.append(f"{exe} has no libx264 encoder")
    raise FfmpegUnavailable("; ".join(problems) or NO_FFMPEG)


def ffmpeg_origin(exe: str) -> str:
    """Which ffmpeg exe is, for the JSON summary: "imageio-ffmpeg", or "ffmpeg" for the one on PATH."""
    return ORIGINS.get(exe, "ffmpeg")


@dataclass
class MediaInfo:
    """What `ffmpeg -i` says about a file's first video and audio streams."""

    duration: float | None = None
    video_codec: str | None = None
    pix_fmt: str | None = None
    width: int = 0
    height: int = 0
    audio_codec: str | None = None


def probe(path: str | Path) -> MediaInfo:
    """Streams of a media file, read from ffmpeg's own description of its input (no ffprobe needed)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", local(path)], capture_output=True, text=True, timeout=60)
    info = MediaInfo()
    for line in proc.stderr.splitlines():
        line = line.strip()
        if line.startswith("Duration:"):
            match = re.match(r"Duration: (\d+):(\d+):([\d.]+)", line)
            if match:
                h, m, s = match.groups()
                info.duration = int(h) * 3600 + int(m) * 60 + float(s)
        elif line.startswith("Stream #") and ": Video: " in line and info.video_codec is None:
            fields = line.split(": Video: ", 1)[1].split(", ")
            info.video_codec = fields[0].split()[0]
            info.pix_fmt = fields[1].split("(")[0] if len(fields) > 1 else None
            size = re.search(r"\b(\d{2,5})x(\d{2,5})\b", line.split(": Video: ", 1)[1])
            if size:
                info.width, info.height = int(size[1]), int(size[2])
        elif line.startswith("Stream #") and ": Audio: " in line and info.audio_codec is None:
            info.audio_codec = line.split(": Audio: ", 1)[1].split()[0].rstrip(",")
    return info


SHOWN = re.compile(r"pts_time:\s*(-?[\d.]+).*?\bs:(\d+)x(\d+)")


def picture_sizes(path: str | Path, timeout: float = 120) -> list[tuple[float, int, int]]:
    """(time, width, height) at each change of the picture's size, from its key frames; [] when unknown.

    A size can change only at a key frame (a new sequence header), so only key frames are decoded: a few
    hundredths of a second for a minute of video.
    """
    try:
        if not Path(path).resolve().is_file():  # a pipe (cat clip | ... /dev/stdin) can be read only once
            return []
        command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-skip_frame", "nokey", "-i", local(path)]
        proc = subprocess.run(
            command + ["-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except (FfmpegUnavailable, OSError, subprocess.SubprocessError):
        return []  # without ffmpeg the check is skipped, not the analysis
    changes: list[tuple[float, int, int]] = []
    for match in SHOWN.finditer(proc.stderr):
        size = (int(match[2]), int(match[3]))
        if not changes or changes[-1][1:] != size:
            changes.append((float(match[1]), *size))
    return changes
