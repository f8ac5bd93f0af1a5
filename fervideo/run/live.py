"""Live mode: a camera (or a file or stream, played in real time) annotated with the newest frame first.

A reader thread keeps only the latest frame, so when the model is slower than the camera frames are
dropped instead of queueing up: what is shown is always as recent as the machine allows.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.atomic import AtomicOutput, commit_group, guarded
from fervideo.core.errors import InputError, OutputError
from fervideo.core.frames import FrameResult
from fervideo.core.paths import NOT_UTF8, is_utf8, printable_name
from fervideo.core.signals import check, deferred
from fervideo.engine.pipeline import Analyzer
from fervideo.engine.smoothing import EmaSmoother
from fervideo.outputs.draw import annotate, draw_bars, draw_fps
from fervideo.outputs.sinks import CsvSink, PacedFrames, VideoSink
from fervideo.run.live_summary import LiveSummary, replaced_outputs, source_name

QUIT_KEYS = (ord("q"), ord("Q"), 27)  # q or Esc
MAX_INDEX = 2**31 - 1  # OpenCV takes the index as a C int
STALL_SECONDS = 5.0  # a source that sends no frame for this long is taken as gone


@dataclass
class LiveStats:
    shown: int = 0
    dropped: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, capture to annotated frame
    lost: str = ""  # why a camera or stream (not a file, whose end is its end) stopped the run, for a warning

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else float("nan")


class LatestFrameReader:
    """Reads frames on a thread and keeps only the newest; files are paced at their own frame rate."""

    def __init__(self, camera: str) -> None:
        # ASCII only: "²" is a digit to isdigit() but not to int(); an index past a C int is no camera either
        self.index = int(camera) if camera.isascii() and camera.isdigit() else None
        if self.index is not None and self.index > MAX_INDEX:
            raise InputError(f"no camera at index {camera}; pass --camera INDEX, a video file or a stream URL")
        if self.index is None and _is_pipe(camera):  # OpenCV would wait for a writer forever, deaf to Ctrl-C
            raise InputError(f"{camera}: is a pipe or socket; pass --camera INDEX, a video file or a stream URL")
        if not is_utf8(camera):  # OpenCV would crash on it (SIGSEGV); a URL is always text
            raise InputError(f"{printable_name(camera)}: {NOT_UTF8}")
        self.capture = cv2.VideoCapture(self.index if self.index is not None else camera)
        if not self.capture.isOpened():
            self.capture.release()
            if self.index is not None:
                raise InputError(f"no camera at index {self.index}; pass --camera INDEX, a video file or a stream URL")
            raise InputError(f"{camera}: cannot open this camera, file or stream")
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.paced = self.index is None and Path(camera).is_file()  # a file would otherwise play at decode speed
        self.fps = fps if 0 < fps <= 1000 else 30.0
        self.width = int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.dropped = 0
        self.ended = False
        self._latest: tuple[int, float, np.ndarray] | None = None
        self._taken = -1
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fervideo-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        start, seq = time.perf_counter(), 0
        while not self._stop.is_set():
            ok, frame = self.capture.read()
            captured = time.perf_counter()
            if not ok:
                break
            with self._cond:
                if self._latest is not None and self._latest[0] != self._taken:
                    self.dropped += 1  # never shown: a newer frame replaces it
                self._latest = (seq, captured, frame)
                self._cond.notify_all()
            seq += 1
            if self.paced:
                self._stop.wait(max(0.0, start + seq / self.fps - time.perf_counter()))
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    def latest(self, timeout: float = 5.0) -> tuple[int, float, np.ndarray] | None:
        """The newest frame not yet taken (seq, capture time, frame); None once the source has ended."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while self._latest is None or self._latest[0] == self._taken:
                if self.ended or not self._cond.wait(max(0.0, deadline - time.perf_counter())):
                    return None
            self._taken = self._latest[0]
            return self._latest

    def close(self) -> None:
        """Stop the thread and release the device, unless a read still blocks in it (a stalled stream)."""
        self._stop.set()
        self._thread.join(timeout=2)
        if not self._thread.is_alive():  # released under a read in progress, OpenCV frees what the read uses
            self.capture.release()


@dataclass(frozen=True)
class LiveOptions:
    camera: str = "0"
    window: bool = True
    record: Path | None = None
    csv: Path | None = None
    max_frames: int | None = None
    smooth: float = 0.0  # seconds; 0 shows raw probabilities


def run_live(
    analyzer: Analyzer, options: LiveOptions, on_frame: Callable[[LiveStats], None] | None = None
) -> LiveStats:
    """Show (and optionally record) the annotated stream until q/Esc, Ctrl-C, max_frames or the end.

    A stop keeps what was recorded; SIGTERM and SIGHUP are raised again once it is in place, so that the exit
    status says the run was stopped. Before the first frame there is nothing to keep: earlier files stay as they were.
    """
    # a user's own file, or an analyze result's, at an output's name stops the run before the camera opens
    replaced_outputs(options.csv, options.record)
    reader = LatestFrameReader(options.camera)
    stats = LiveStats()
    try:
        # the loop over, a stop (a second Ctrl-C, say) waits until the files are in place: what was seen is kept
        with ExitStack() as finishing:
            stop = _run_and_keep(analyzer, options, reader, stats, on_frame, finishing)
    finally:
        reader.close()
        stats.dropped = reader.dropped
        if options.window:
            cv2.destroyAllWindows()
    if stop is not None and getattr(stop, "signum", signal.SIGINT) != signal.SIGINT:
        raise stop  # Ctrl-C is a normal way to stop; a kill or a closed terminal is not
    return stats


def _run_and_keep(
    analyzer: Analyzer,
    options: LiveOptions,
    reader: LatestFrameReader,
    stats: LiveStats,
    on_frame: Callable[[LiveStats], None] | None,
    finishing: ExitStack,
) -> KeyboardInterrupt | None:
    """Run the loop and put its outputs in place, signals held from the loop's end on; the stop that ended it."""
    stop: KeyboardInterrupt | None = None
    # guarded: a failure or a stop before the commit, even while the writers open, leaves no file behind
    with guarded():
        with ExitStack() as stack:
            staged, video, table = _open_outputs(stack, options, reader)
            summary = None
            if options.csv is not None:  # the JSON beside the CSV, committed last: report and export read both
                summary = LiveSummary(options.csv, options.camera, reader.capture, analyzer, options.smooth)
                staged.append(stack.enter_context(summary.output))
            try:
                _loop(analyzer, options, reader, stats, video, (table, summary), on_frame)
            except KeyboardInterrupt as exc:
                stop = exc
            finishing.enter_context(deferred())
            if stats.shown == 0:  # raised inside: the writers discard their empty files, the old ones stay
                raise stop or _nothing_came(options)
            if summary is not None:
                size = (reader.width, reader.height)
                summary.finish(reader.fps, size, stats.shown, reader.dropped, options.record)
        _commit(staged, replaced_outputs(options.csv, options.record))  # asked again: the run took a while
    return stop


def _open_outputs(
    stack: ExitStack, options: LiveOptions, reader: LatestFrameReader
) -> tuple[list[AtomicOutput], PacedFrames | None, CsvSink | None]:
    """The writers of --record and --csv, held for one group commit at the end."""
    staged: list[AtomicOutput] = []
    video = table = None
    if options.record:
        sink = stack.enter_context(VideoSink(options.record, reader.fps, reader.width, reader.height).hold())
        staged.append(sink)
        video = PacedFrames(sink, reader.fps)
    if options.csv:
        table = stack.enter_context(CsvSink(options.csv).hold())
        staged.append(table)
    return staged, video, table


def _commit(staged: list[AtomicOutput], stale: list[Path]) -> None:
    """Put the recording, the CSV and its JSON in place together (an earlier result's other recorded files removed):
    all new, or else all as they were."""
    try:
        commit_group(staged, stale)
    except OSError as exc:
        names = " and ".join(str(output.final) for output in staged)
        raise OutputError(f"could not put {names} in place: {exc.strerror or exc}") from exc


def _lost(camera: str, ended: bool, shown: int) -> str:
    """Why a camera or stream stopped the run: a user who unplugged nothing must not take it for a normal end."""
    if ended:
        return f"{source_name(camera)} stopped sending frames after {shown} shown (unplugged, or the stream ended)"
    return f"{source_name(camera)} sent no frame for {STALL_SECONDS:g} s; stopped after {shown} shown"


def _nothing_came(options: LiveOptions) -> InputError:
    """The one line for a run that got no frame at all."""
    source = source_name(options.camera)
    wanted = [path for path in (options.record, options.csv) if path is not None]
    kept = [str(path) for path in wanted if path.exists()]
    if kept:
        return InputError(f"{source}: no frame came; nothing was recorded, {' and '.join(kept)} left as they were")
    return InputError(f"{source}: no frame came{'; nothing was recorded' if wanted else ''}")


def _loop(
    analyzer: Analyzer,
    options: LiveOptions,
    reader: LatestFrameReader,
    stats: LiveStats,
    video: PacedFrames | None,
    tables: tuple[CsvSink | None, LiveSummary | None],
    on_frame: Callable[[LiveStats], None] | None,
) -> None:
    table, summary = tables
    tracker = analyzer.new_tracker()
    smoother = EmaSmoother(options.smooth)
    start = 0.0  # the first shown frame's capture time: the recording starts there, so time_s 0 is its first frame
    recent: list[float] = []  # capture times of the last second, for the frames/s overlay
    while options.max_frames is None or stats.shown < options.max_frames:
        check()  # a stop whose KeyboardInterrupt a library swallowed
        got = reader.latest(STALL_SECONDS)
        if got is None:
            stats.lost = "" if reader.paced else _lost(options.camera, reader.ended, stats.shown)
            return
        seq, captured, frame = got  # seq: the source's own frame number, dropped frames counted
        if stats.shown == 0:  # not the loop's start: a camera warming up would shift every time_s off the recording
            start = captured
        faces = analyzer.analyze_frame(frame, tracker, captured - start)
        if len(faces):
            faces.probs = smoother(faces.tracker_id, faces.probs, captured - start)
        recent = [t for t in recent if captured - t < 1.0] + [captured]
        annotate(frame, faces, analyzer.classifier.classes)
        draw_bars(frame, faces, analyzer.classifier.classes)
        draw_fps(frame, len(recent))
        stats.latencies.append(time.perf_counter() - captured)
        if video is not None:  # at real time: a frame dropped while analysing repeats the last one shown
            video.write(frame, captured)
        if table is not None:
            result = FrameResult(seq, captured - start, frame, True, faces)
            table.write(result)
            summary.update(result)  # the CSV and its summary come together
        stats.shown += 1
        if on_frame is not None:
            on_frame(stats)
        if options.window:
            cv2.imshow("fervideo live (q to quit)", frame)
            if cv2.waitKey(1) & 0xFF in QUIT_KEYS:
                return


def _is_pipe(camera: str) -> bool:
    """Whether camera names a FIFO or a socket (a camera device such as /dev/video0 is not one)."""
    import stat

    try:
        mode = Path(camera).stat().st_mode
    except (OSError, ValueError):  # a URL, or nothing there: OpenCV says what it makes of it
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
