"""Where an input's outputs go: the one naming rule that analyze, batch and report share."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class OutputOptions:
    """Which outputs a run writes beside the CSV and the JSON, which it always writes."""

    write_video: bool = True  # the annotated video (or photo)
    codec: str = "h264"  # h264 (with the source's sound) or mp4v
    report: bool = False  # CLIP.report.html and CLIP.timeline.png

    def kwargs(self) -> dict:
        """As analyze_file's keyword arguments."""
        return asdict(self)


def output_paths(input_path: str | Path, out_dir: str | Path, stem: str | None = None) -> dict[str, Path]:
    """Where the CSV, JSON, annotated video (or image), report and timeline plot of an input go.

    stem names them (default: the input's stem); batch passes the whole name for inputs whose stems clash.
    """
    input_path, out_dir = Path(input_path), Path(out_dir)
    stem, suffix = stem or input_path.stem, input_path.suffix.lower()
    annotated = out_dir / f"{stem}.annotated{suffix if suffix in IMAGE_SUFFIXES else '.mp4'}"
    return {
        "csv": out_dir / f"{stem}.csv",
        "video": annotated,
        "json": out_dir / f"{stem}.json",
        "report": out_dir / f"{stem}.report.html",
        "timeline": out_dir / f"{stem}.timeline.png",
    }
