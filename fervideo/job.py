"""One input in, its outputs out: the unit of work that analyze, batch and Ray all run."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from fervideo import __version__
from fervideo.draw import annotate
from fervideo.pipeline import Analyzer
from fervideo.sinks import CsvSink, ImageSink, VideoSink, prepare_out_dir, write_json
from fervideo.source import IMAGE_SUFFIXES, Sampling, VideoSource
from fervideo.summary import Summary

Progress = Callable[[int, int], None]  # (frames done, frames expected or 0)


def output_paths(input_path: str | Path, out_dir: str | Path) -> dict[str, Path]:
    """Where the CSV, JSON and annotated video (or image) of an input go."""
    input_path, out_dir = Path(input_path), Path(out_dir)
    stem, suffix = input_path.stem, input_path.suffix.lower()
    annotated = out_dir / f"{stem}.annotated{suffix if suffix in IMAGE_SUFFIXES else '.mp4'}"
    return {"csv": out_dir / f"{stem}.csv", "video": annotated, "json": out_dir / f"{stem}.json"}


def analyze_file(
    input_path: str | Path,
    out_dir: str | Path,
    analyzer: Analyzer,
    write_video: bool = True,
    progress: Progress | None = None,
) -> dict:
    """Analyse one input into OUT_DIR; returns the JSON summary. Outputs appear only once complete."""
    tic = time.perf_counter()
    paths = output_paths(input_path, prepare_out_dir(out_dir))
    summary = Summary()
    with VideoSource(input_path) as source, ExitStack() as outputs:
        info = source.info
        expected = _expected_frames(info.frames, info.fps, analyzer.options.sampling)
        csv_sink = outputs.enter_context(CsvSink(paths["csv"]))
        video_sink = None
        if write_video:
            sink = (
                ImageSink(paths["video"])
                if info.is_image
                else VideoSink(paths["video"], info.fps, info.width, info.height)
            )
            video_sink = outputs.enter_context(sink)
        for result in analyzer.run(source, decode_all=write_video):
            csv_sink.write(result)
            if video_sink is not None:
                video_sink.write(annotate(result.image, result.faces, analyzer.classifier.classes))
            summary.update(result)
            if progress is not None:
                progress(summary.frames_seen, expected)
        frames_read = source.frames_read
    warnings = list(info.warnings)
    if (
        not info.is_image
        and info.frames
        and frames_read + max(3, 0.02 * info.frames) < info.frames
        and (analyzer.options.sampling.end is None)
    ):
        warnings.append(
            f"{input_path}: decoded {frames_read} of the {info.frames} frames the header announces; "
            "the file looks truncated"
        )
    elapsed = time.perf_counter() - tic
    data = {
        "fervideo_version": __version__,
        "input": {**info.to_dict(), "frames_read": frames_read},
        "model": {k: v for k, v in analyzer.classifier.info.items() if k != "metrics"},
        "detector": asdict(analyzer.options.detector),
        "tracker": asdict(analyzer.options.tracker),
        "sampling": asdict(analyzer.options.sampling),
        "counts": summary.counts(),
        "tracks": summary.track_list(),
        "processing": {"seconds": round(elapsed, 3), "frames_per_second": round(summary.frames_seen / elapsed, 2)},
        "outputs": {k: str(v) for k, v in paths.items() if k != "video" or write_video},
        "warnings": warnings,
    }
    write_json(paths["json"], data)  # last: its presence marks a complete result
    return data


def _expected_frames(frames: int, fps: float, sampling: Sampling) -> int:
    """Frames in the analysed range, from the header, for progress; 0 when unknown."""
    if not frames:
        return 0
    first = int(sampling.start * fps)
    last = frames if sampling.end is None else min(frames, int(round(sampling.end * fps)))
    return max(last - first, 0)
