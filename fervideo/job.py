"""One input in, its outputs out: the unit of work that analyze, batch and Ray all run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import asdict
from pathlib import Path

from fervideo import __version__
from fervideo.background import BackgroundWriter
from fervideo.draw import annotate
from fervideo.encoder import H264Sink, open_video_sink
from fervideo.errors import UsageError
from fervideo.layout import output_paths
from fervideo.moments import PeakMoments
from fervideo.pipeline import Analyzer
from fervideo.results import read_table
from fervideo.sinks import AtomicOutput, CsvSink, ImageSink, commit_group, prepare_out_dir
from fervideo.source import Sampling, VideoInfo, VideoSource
from fervideo.summary import Summary

Progress = Callable[[int, int], None]  # (frames done, frames expected or 0)


def refuse_overwriting_inputs(inputs: list[Path], out_dir: str | Path) -> None:
    """An output of any input must never be one of the inputs (a video named v.json, analysed into its folder)."""
    named = {path.resolve(): path for path in inputs}
    for path in inputs:
        for output in output_paths(path, out_dir).values():
            if output.resolve() in named:
                raise UsageError(
                    f"{path} would write {output}, which is the input {named[output.resolve()]}; "
                    "choose another -o folder or rename the input"
                )


def analyze_file(
    input_path: str | Path,
    out_dir: str | Path,
    analyzer: Analyzer,
    write_video: bool = True,
    progress: Progress | None = None,
    codec: str = "h264",
    report: bool = False,
    stem: str | None = None,
) -> dict:
    """Analyse one input into OUT_DIR; returns the JSON summary. Outputs appear only once complete."""
    tic = time.perf_counter()
    paths = output_paths(input_path, out_dir, stem)
    if any(path.resolve() == Path(input_path).resolve() for path in paths.values()):
        raise UsageError(f"{input_path} would be overwritten by its own outputs; choose another -o folder")
    prepare_out_dir(out_dir)
    summary = Summary()
    moments = PeakMoments() if report else None
    writer_warnings: list[str] = []
    staged: list[AtomicOutput] = []  # finished under temporary names; all renamed at the end, the JSON last
    try:
        with VideoSource(input_path) as source, ExitStack() as outputs:
            info = source.info
            expected = _expected_frames(info.frames, info.fps, analyzer.options.sampling)
            csv_sink = outputs.enter_context(CsvSink(paths["csv"]).hold())
            staged.append(csv_sink)
            video_sink = None
            if write_video and info.is_image:
                video_sink = outputs.enter_context(ImageSink(paths["video"]).hold())
            elif write_video:
                sampling = analyzer.options.sampling
                sink, writer_warnings = open_video_sink(
                    paths["video"],
                    info.fps,
                    info.width,
                    info.height,
                    codec,
                    Path(input_path),
                    sampling.start,
                    # sound that runs on past the picture (the header's frames) is cut with it
                    sampling.end if sampling.end is not None else info.duration or None,
                )
                video_sink = outputs.enter_context(sink.hold())
            drawn = None
            if video_sink is not None:
                staged.append(video_sink)
                classes = analyzer.classifier.classes
                # drawing and encoding overlap the next frames' analysis; entered last, so it stops first
                drawn = outputs.enter_context(
                    BackgroundWriter(lambda r: video_sink.write(annotate(r.image, r.faces, classes)))
                )
            # closing: the detector thread stops before the source closes, even when a sink fails
            results = outputs.enter_context(closing(analyzer.run(source, decode_all=write_video)))
            for result in results:
                csv_sink.write(result)
                summary.update(result)
                if moments is not None:  # before annotate, which draws on the frame in place
                    moments.update(result)
                if drawn is not None:
                    drawn.put(result)
                if progress is not None:
                    progress(summary.frames_seen, expected)
            if drawn is not None:
                drawn.close()  # every frame encoded, or the writer's error raised, before anything is committed
            frames_read = source.frames_read
        data = _summary(
            input_path,
            info,
            frames_read,
            analyzer,
            summary,
            writer_warnings,
            paths,
            write_video,
            report,
            time.perf_counter() - tic,
        )
        if video_sink is not None and not info.is_image:
            h264 = isinstance(video_sink, H264Sink)
            data["video"] = {"codec": "h264" if h264 else "mp4v", "audio": video_sink.audio if h264 else None}
        if report:
            from fervideo.report import write_report  # matplotlib loads only when a report is asked for

            extra = {k: AtomicOutput(paths[k]) for k in ("report", "timeline")}
            staged += extra.values()
            write_report({k: o.tmp for k, o in extra.items()}, data, read_table(csv_sink.tmp), moments.by_track())
        summary_out = AtomicOutput(paths["json"])
        staged.append(summary_out)
        summary_out.tmp.write_text(json.dumps(data, indent=2) + "\n")
        finals = {output.final for output in staged}
        commit_group(staged, [path for path in paths.values() if path not in finals])
    except BaseException:
        for output in staged:
            output.discard()
        raise
    return data


def _summary(
    input_path: str | Path,
    info: VideoInfo,
    frames_read: int,
    analyzer: Analyzer,
    summary: Summary,
    writer_warnings: list[str],
    paths: dict[str, Path],
    write_video: bool,
    report: bool,
    elapsed: float,
) -> dict:
    """The JSON summary of one finished run."""
    warnings = list(info.warnings) + writer_warnings
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
    written = {"csv", "json"} | ({"video"} if write_video else set()) | ({"report", "timeline"} if report else set())
    return {
        "fervideo_version": __version__,
        "input": {**info.to_dict(), "absolute_path": str(Path(input_path).resolve()), "frames_read": frames_read},
        "model": {
            **{k: v for k, v in analyzer.classifier.info.items() if k != "metrics"},
            "tta": analyzer.options.tta,
        },
        "detector": asdict(analyzer.options.detector),
        "tracker": asdict(analyzer.options.tracker),
        "sampling": asdict(analyzer.options.sampling),
        "smoothing": {"seconds": analyzer.options.smooth, "method": "exponential moving average per track"},
        "options": analyzer.options.to_dict(),  # as given: a batch rerun redoes an input whose options differ
        "counts": summary.counts(),
        "tracks": summary.track_list(),
        "processing": {"seconds": round(elapsed, 3), "frames_per_second": round(summary.frames_seen / elapsed, 2)},
        "outputs": {k: str(v) for k, v in paths.items() if k in written},
        "warnings": warnings,
    }


def _expected_frames(frames: int, fps: float, sampling: Sampling) -> int:
    """Frames in the analysed range, from the header, for progress; 0 when unknown."""
    if not frames:
        return 0
    first = int(sampling.start * fps)
    last = frames if sampling.end is None else min(frames, int(round(sampling.end * fps)))
    return max(last - first, 0)
