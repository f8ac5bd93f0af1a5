"""The outputs of one run behind one protocol: each sink is fed every FrameResult, then finished with the summary.

A sink writes under temporary names and stages its files; the caller commits all sinks' files as one group
(fervideo.core.atomic.commit_group), so a run leaves either its complete set of outputs or the old set.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import numpy as np

from fervideo.core.atomic import AtomicOutput
from fervideo.core.background import BackgroundWriter
from fervideo.core.frames import FrameResult
from fervideo.outputs.draw import annotate
from fervideo.outputs.encoder import H264Sink, open_video_sink
from fervideo.outputs.exports import write_episodes, write_exports
from fervideo.outputs.moments import PeakMoments
from fervideo.outputs.results import read_table
from fervideo.outputs.sinks import CsvSink, ImageSink, PacedFrames
from fervideo.outputs.summary import Summary


class Sink(Protocol):
    """What every output of a run does; entering it opens its files, leaving it on an error discards them."""

    def write(self, result: FrameResult) -> None:
        """Take one frame's result, in frame order."""

    def finish(self, summary: dict) -> None:
        """Complete the files from the finished run's summary; they stay under temporary names."""

    def staged(self) -> list[AtomicOutput]:
        """The finished files, for the group commit."""

    def __enter__(self) -> Sink: ...

    def __exit__(self, exc_type: type | None, *exc: object) -> None: ...


class _Staged:
    """Shared by the sinks: entered, its files are held for the group commit and discarded on an error."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self.files: list[AtomicOutput] = []

    def _hold(self, output: AtomicOutput) -> AtomicOutput:
        self.files.append(output)
        return self._stack.enter_context(output.hold())

    def staged(self) -> list[AtomicOutput]:
        """The finished files, for the group commit."""
        return list(self.files)

    def __enter__(self) -> _Staged:
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        self._stack.__exit__(exc_type, *exc)  # closes the files; with an error, each discards its own


class TableSink(_Staged):
    """CLIP.csv: one row per face per analysed frame."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.csv = self._hold(CsvSink(path))

    def write(self, result: FrameResult) -> None:
        self.csv.write(result)

    def finish(self, summary: dict) -> None:
        self.csv.close()


class AnnotatedSink(_Staged):
    """CLIP.annotated.mp4 (or the annotated photo): drawn and encoded in a thread, overlapping the analysis.

    Frames go out at the video's nominal rate: a variable-rate source has frames repeated or dropped where its
    own timestamps say, so that the picture stays in step with the copied sound.
    """

    def __init__(
        self, path: Path, info: object, classes: tuple[str, ...], codec: str, audio: dict, draw: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.classes, self.is_image, self.draw = classes, info.is_image, draw  # draw: --draw's LAYERS
        self.warnings: list[str] = []
        if info.is_image:
            self.sink = self._hold(ImageSink(path))
        else:
            sink, self.warnings = open_video_sink(path, info.fps, info.width, info.height, codec, **audio)
            self.sink = self._hold(sink)
            self.paced = PacedFrames(self.sink, info.fps)
        # entered last, so that the drawing thread stops before the file it writes to is discarded
        self._drawn = self._stack.enter_context(BackgroundWriter(self._draw))

    def details(self) -> dict | None:
        """The video's codec, the program that wrote it and its sound, for the summary; None for a photo."""
        if self.is_image:
            return None
        if isinstance(self.sink, H264Sink):
            return {"codec": "h264", "encoder": self.sink.encoder, "audio": self.sink.audio}
        return {"codec": "mp4v", "encoder": "opencv", "audio": None}

    def write(self, result: FrameResult) -> None:
        self._drawn.put(result)

    def _draw(self, result: FrameResult) -> None:
        frame = annotate(result.image, result.faces, self.classes, self.draw)
        if self.is_image:
            self.sink.write(frame)
            return
        self.paced.write(frame, result.time_s)

    def finish(self, summary: dict) -> None:
        self._drawn.close()  # every frame encoded, or the writer's error raised
        self.sink.close()


class ReportSink(_Staged):
    """CLIP.report.html and CLIP.timeline.png, made from the finished CSV and each track's peak moments."""

    def __init__(self, paths: dict[str, Path], table: TableSink) -> None:
        super().__init__()
        self.table, self.moments = table, PeakMoments()
        self.outputs = {k: self._hold(AtomicOutput(paths[k])) for k in ("report", "timeline")}

    def write(self, result: FrameResult) -> None:
        self.moments.update(result)  # before the annotated sink draws on the frame

    def finish(self, summary: dict) -> None:
        from fervideo.outputs.report import write_report  # the report's code loads only when a report is asked for

        tmp = {k: output.tmp for k, output in self.outputs.items()}
        write_report(tmp, summary, read_table(self.table.csv.tmp), self.moments.by_track())


class EpisodeSink(_Staged):
    """CLIP.episodes.csv, the state log: each face's stretches of one top emotion, from the run's statistics."""

    def __init__(self, path: Path, stats: Summary) -> None:
        super().__init__()
        self.stats, self.output = stats, self._hold(AtomicOutput(path))

    def write(self, result: FrameResult) -> None:
        """The statistics (fed by the caller) hold each track's series."""

    def finish(self, summary: dict) -> None:
        write_episodes(self.output.tmp, self.stats.episodes())


class ExportSink(_Staged):
    """CLIP.eaf for ELAN and CLIP.boris with CLIP.face<ID>.tsv for BORIS, as formats asks."""

    def __init__(self, paths: dict[str, Path], stats: Summary, formats: tuple[str, ...], media: Path) -> None:
        super().__init__()
        self.paths, self.stats, self.formats, self.media = paths, stats, formats, media

    def write(self, result: FrameResult) -> None:
        """The statistics (fed by the caller) hold each track's series."""

    def finish(self, summary: dict) -> None:
        series, features = {}, {}
        for face_id, track in self.stats.tracks.items():
            series[face_id] = track.arrays()
            if track.features:  # row for row with its series; none with --no-face-features
                features[face_id] = track.features.array[:, 1:].astype(np.float32)
        timing = (summary["input"]["fps"], summary["input"]["duration"])
        episodes = self.stats.episodes()
        write_exports(self.formats, self.paths, episodes, series, self.media, timing, self._stage, features)

    def _stage(self, final: Path) -> AtomicOutput:
        return self._hold(AtomicOutput(final))


class SummarySink(_Staged):
    """CLIP.json, the summary; staged last, so that its arrival marks a complete result."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.output = self._hold(AtomicOutput(path))

    def write(self, result: FrameResult) -> None:
        """The summary is made from the whole run, not per frame."""

    def finish(self, summary: dict) -> None:
        self.output.tmp.write_text(json.dumps(summary, indent=2) + "\n")
