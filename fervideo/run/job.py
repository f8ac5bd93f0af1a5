"""One input in, its outputs out: the unit of work that analyze, batch and Ray all run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import asdict
from pathlib import Path

from fervideo import __version__
from fervideo.core.atomic import commit_group, guarded, prepare_out_dir
from fervideo.core.errors import UsageError
from fervideo.core.layout import face_series_files, output_paths
from fervideo.core.signals import check
from fervideo.engine.pipeline import Analyzer
from fervideo.engine.source import Sampling, VideoInfo, VideoSource
from fervideo.outputs.group import AnnotatedSink, EpisodeSink, ExportSink, ReportSink, Sink, SummarySink, TableSink
from fervideo.outputs.summary import Summary
from fervideo.run.owned import check_unchanged, identity, input_stat, replaceable

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
    export: tuple[str, ...] = (),
    min_episode: float = 0.5,
    draw: tuple[str, ...] = (),
) -> dict:
    """Analyse one input into OUT_DIR; returns the JSON summary. Outputs appear only once complete, as a group."""
    tic = time.perf_counter()
    paths = output_paths(input_path, out_dir, stem)
    if any(path.resolve() == Path(input_path).resolve() for path in paths.values()):
        raise UsageError(f"{input_path} would be overwritten by its own outputs; choose another -o folder")
    prepare_out_dir(out_dir)
    started = input_stat(input_path)  # the file this run analyses, checked again before its outputs go in place
    replaceable(_finals(paths, write_video, report, export), paths["json"], [])  # a user's file: refused up front
    summary = Summary(min_episode)
    with guarded():  # a failure or a stop anywhere, even while the sinks open, removes every unfinished file
        with VideoSource(input_path) as source, ExitStack() as stack:
            info = source.info
            expected = _expected_frames(info.frames, info.fps, analyzer.options.sampling)
            wanted = _open_sinks(paths, info, analyzer, (write_video, codec, draw), report, export, summary)
            sinks = [stack.enter_context(s) for s in wanted]
            # closing: the detector thread stops before the source closes, even when a sink fails
            for result in stack.enter_context(closing(analyzer.run(source, decode_all=write_video))):
                check()  # a stop asked for while a library swallowed its KeyboardInterrupt
                summary.update(result)
                for sink in sinks:
                    sink.write(result)
                if progress is not None:
                    progress(summary.frames_seen, expected)
            video = next((s for s in sinks if isinstance(s, AnnotatedSink)), None)
            data = _summary(
                input_path,
                info,
                source.frames_read,
                analyzer,
                summary,
                video,
                paths,
                report,
                export,
                time.perf_counter() - tic,
            )
            data["input"].update(identity(started))
            data["output_options"] = {"video": write_video, "codec": codec, "report": report, "export": list(export)}
            data["output_options"]["draw"] = list(draw)
            for sink in sinks[:-1]:  # in order: the CSV before the report that reads it
                sink.finish(data)
            # every file of this run, so that a later one replaces or removes these and never a user's own
            data["files"] = sorted({output.final.name for sink in sinks for output in sink.staged()})
            sinks[-1].finish(data)  # the JSON, which marks a complete result, last
        staged = [output for sink in sinks for output in sink.staged()]
        check_unchanged(input_path, started)  # a file moved over the input mid-run must not take this result
        finals = [output.final for output in staged]
        old = list(paths.values()) + face_series_files(out_dir, input_path, stem)
        commit_group(staged, replaceable(finals, paths["json"], old))
    return data


def _finals(paths: dict[str, Path], write_video: bool, report: bool, export: tuple[str, ...]) -> list[Path]:
    """The files a run with these options writes, as known before it starts (the per-face series aside)."""
    kinds = ["csv", "episodes", "json", *export] + ["video"] * write_video + ["report", "timeline"] * report
    return [paths[kind] for kind in kinds]


def _open_sinks(
    paths: dict[str, Path],
    info: VideoInfo,
    analyzer: Analyzer,
    video: tuple[bool, str, tuple[str, ...]],
    report: bool,
    export: tuple[str, ...],
    stats: Summary,
) -> Iterator[Sink]:
    """The sinks the options ask for, in the order they take each result (the drawing one last: it draws in place);
    video: whether to write the annotated video, its codec and what --draw adds."""
    write_video, codec, draw = video
    table = TableSink(paths["csv"])
    yield table
    yield EpisodeSink(paths["episodes"], stats)
    if export:
        yield ExportSink(paths, stats, export, Path(info.path))
    if report:
        yield ReportSink(paths, table)
    if write_video:
        sampling = analyzer.options.sampling
        # sound that runs on past the picture (the header's frames) is cut with it
        end = sampling.end if sampling.end is not None else info.duration or None
        audio = {"audio_from": Path(info.path), "start": sampling.start, "end": end}
        yield AnnotatedSink(paths["video"], info, analyzer.classifier.classes, codec, audio, draw)
    yield SummarySink(paths["json"])


def _summary(
    input_path: str | Path,
    info: VideoInfo,
    frames_read: int,
    analyzer: Analyzer,
    summary: Summary,
    video: AnnotatedSink | None,
    paths: dict[str, Path],
    report: bool,
    export: tuple[str, ...],
    elapsed: float,
) -> dict:
    """The JSON summary of one finished run."""
    warnings = list(info.warnings) + (video.warnings if video is not None else [])
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
    written = {"csv", "json", "episodes"} | ({"video"} if video is not None else set())
    written |= set(export)
    written |= {"report", "timeline"} if report else set()
    tracks = summary.track_list()  # each track's episodes cut once, here, for its fields and the count
    data = {
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
        "tracks": tracks,
        "episodes": {"min_seconds": summary.min_episode, "count": sum(track["episodes"] for track in tracks)},
        "processing": {
            "seconds": round(elapsed, 3),
            "frames_per_second": round(summary.frames_seen / elapsed, 2),
            **analyzer.work(),
        },
        "outputs": {k: str(v) for k, v in paths.items() if k in written},
        "warnings": warnings,
    }
    if video is not None and video.details() is not None:
        data["video"] = video.details()
    return data


def _expected_frames(frames: int, fps: float, sampling: Sampling) -> int:
    """Frames in the analysed range, from the header, for progress; 0 when unknown."""
    if not frames:
        return 0
    first = int(sampling.start * fps)
    last = frames if sampling.end is None else min(frames, int(round(sampling.end * fps)))
    return max(last - first, 0)
