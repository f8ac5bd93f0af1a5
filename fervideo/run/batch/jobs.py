"""One input of a batch as the driver and the engines see it, and its row in index.csv: the row format lives here."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from fervideo.core.atomic import AtomicOutput

INDEX_HEADER = ["input", "status", "frames", "faces", "dominant_emotion", "seconds", "error", "outputs"]


@dataclass
class Job:
    """One input: where its outputs go, how often it was tried, and its index row once it has an outcome."""

    input: Path  # as found under the batch folder
    out_dir: Path  # OUT_DIR mirrored by the input's subfolder
    stem: str | None = None  # names its outputs when another input's stem is the same (clip.mp4 and clip.mov)
    attempts: int = 0
    row: dict = field(default_factory=dict)


def empty_row(input_path: str | Path) -> dict:
    """A row with every index field, failed until the work says otherwise; `transient` marks a retry."""
    return {k: "" for k in INDEX_HEADER} | {"input": str(input_path), "status": "failed", "transient": False}


def failed_row(job: Job, error: str) -> dict:
    """The row of an input that did not finish."""
    return empty_row(job.input) | {"error": error}


def summary_row(summary: dict) -> dict:
    """Index fields from a JSON summary."""
    tracks = summary.get("tracks", [])
    dominant = max(tracks, key=lambda t: t["frames"])["dominant_emotion"] if tracks else ""
    return {
        "frames": summary["counts"]["frames_analysed"],
        "faces": summary["counts"]["faces"],
        "dominant_emotion": dominant,
        "outputs": ";".join(summary.get("outputs", {}).values()),
    }


def skipped_row(job: Job, earlier: dict) -> dict:
    """The row of an input whose earlier complete result stands."""
    return empty_row(job.input) | summary_row(earlier) | {"status": "skipped"}


def write_index(out_dir: Path, jobs: list[Job]) -> None:
    """OUT_DIR/index.csv, one row per input that has an outcome, replaced atomically."""
    with AtomicOutput(out_dir / "index.csv") as out, open(out.tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, INDEX_HEADER, extrasaction="ignore")
        writer.writeheader()
        for job in jobs:
            if job.row:
                writer.writerow({k: job.row.get(k, "") for k in INDEX_HEADER})
