"""One input of a batch, as the driver and the engines both see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Job:
    input: Path  # as found under the batch folder
    out_dir: Path  # OUT_DIR mirrored by the input's subfolder
    stem: str | None = None  # names its outputs when another input's stem is the same (clip.mp4 and clip.mov)
    attempts: int = 0
    row: dict = field(default_factory=dict)
