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
    export: tuple[str, ...] = ()  # "eaf" (ELAN), "boris" (a BORIS project and a time series per face)
    min_episode: float = 0.5  # seconds: shorter stretches of one emotion join a neighbour in CLIP.episodes.csv
    draw: tuple[str, ...] = ()  # what the annotated video adds under the labels: "landmarks", "pose"

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
        "episodes": out_dir / f"{stem}.episodes.csv",
        "eaf": out_dir / f"{stem}.eaf",
        "boris": out_dir / f"{stem}.boris",
    }


def face_series_name(stem: str, face_id: int) -> str:
    """The file name of one face's BORIS time series: CLIP.face<ID>.tsv."""
    return f"{stem}.face{face_id}.tsv"


def face_series_files(out_dir: str | Path, input_path: str | Path, stem: str | None = None) -> list[Path]:
    """An input's per-face BORIS time series already in out_dir: CLIP.face<digits>.tsv, nothing else.

    The digits matter: a.face2.mp4's own a.face2.face1.tsv also fits the glob a.face*.tsv of a.mp4.
    """
    import glob
    import re

    stem = stem or Path(input_path).stem
    own = re.compile(re.escape(stem) + r"\.face[0-9]+\.tsv")
    return sorted(path for path in Path(out_dir).glob(glob.escape(stem) + ".face*.tsv") if own.fullmatch(path.name))
