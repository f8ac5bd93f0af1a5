"""One input of a batch as the driver and the engines see it, and its row in index.csv: the row format lives here."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from fervideo.core.atomic import AtomicOutput
from fervideo.core.errors import UsageError

INDEX_HEADER = ["input", "status", "frames", "faces", "dominant_emotion", "seconds", "error", "outputs"]
BATCH_FILES = ("index.csv", "index.html")  # the batch's own names in OUT_DIR, which no input's output may take
OVERVIEW_TITLE = "<title>fervideo batch</title>"  # marks an index.html as a batch's overview


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
        "faces": len(tracks),  # the people tracked, as index.html counts them; counts.faces adds up detections
        "dominant_emotion": dominant,
        "outputs": ";".join(summary.get("outputs", {}).values()),
    }


def skipped_row(job: Job, earlier: dict) -> dict:
    """The row of an input whose earlier complete result stands."""
    return empty_row(job.input) | summary_row(earlier) | {"status": "skipped"}


def write_index(out_dir: Path, jobs: list[Job]) -> None:
    """OUT_DIR/index.csv, one row per input that has an outcome, replaced atomically."""
    # surrogateescape: an input whose name is not UTF-8 keeps its own bytes in the index, and reads back as itself
    with AtomicOutput(out_dir / "index.csv") as out, open(out.tmp, "w", newline="", errors="surrogateescape") as f:
        writer = csv.DictWriter(f, INDEX_HEADER, extrasaction="ignore")
        writer.writeheader()
        for job in jobs:
            if job.row:
                writer.writerow({k: job.row.get(k, "") for k in INDEX_HEADER})


def refuse_foreign_index(out_dir: Path, jobs: list[Job], overview: bool) -> None:
    """Raise UsageError when OUT_DIR's index.csv (or, for an overview, index.html) is not this batch's to replace:
    another batch's, whose inputs lie outside this batch's folder, or a file of the user's own."""
    index = out_dir / "index.csv"
    if os.path.lexists(index):
        try:
            with open(index, newline="", errors="surrogateescape") as f:
                reader = csv.DictReader(f)
                rows = list(reader) if reader.fieldnames == INDEX_HEADER else None
        except (OSError, UnicodeDecodeError, csv.Error):
            rows = None
        if rows is None:
            raise UsageError(f"{index} is not a fervideo batch index; move it away or choose another -o folder")
        folders = {_batch_folder(job, out_dir) for job in jobs}
        for row in rows:
            # the folder resolved, not the file: an input may be a link to a file kept elsewhere
            given = Path(row.get("input") or "")
            where = given.parent.resolve() / given.name
            if row.get("input") and not any(where == f or f in where.parents for f in folders):
                raise UsageError(
                    f"{index} is the index of another batch (of {row['input']}); choose another -o folder, "
                    "or move that index.csv away to replace it"
                )
    page = out_dir / "index.html"
    if overview and os.path.lexists(page):
        try:
            ours = OVERVIEW_TITLE in page.read_text(errors="replace")[:4096]
        except OSError:
            ours = False
        if not ours:
            raise UsageError(f"{page} is not a fervideo batch overview; move it away or choose another -o folder")


def _batch_folder(job: Job, out_dir: Path) -> Path:
    """The folder the batch was given: the input's folder, up as many levels as its outputs lie below OUT_DIR."""
    folder = job.input.parent
    for _ in job.out_dir.relative_to(out_dir).parts:
        folder = folder.parent
    return folder.resolve()
