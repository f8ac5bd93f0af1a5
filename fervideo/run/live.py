"""Live mode: a camera (or a file or stream, played in real time) annotated with the newest frame first.

A reader thread keeps only the latest frame, so when the model is slower than the camera frames are
dropped instead of queueing up: what is shown is always as recent as the machine allows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.atomic import guarded
from fervideo.core.errors import InputError
from fervideo.core.frames import FrameResult
from fervideo.core.signals import check
from fervideo.engine.pipeline import Analyzer
from fervideo.engine.smoothing import EmaSmoother
from fervideo.engine.tracker import IoUTracker
from fervideo.outputs.draw import annotate, draw_bars, draw_fps
from fervideo.outputs.sinks import CsvSink, PacedFrames, VideoSink

QUIT_KEYS = (ord("q"), ord("Q"), 27)  # q or Esc


@dataclass
class LiveStats:
    shown: int = 0
    dropped: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, capture to annotated frame

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else float("nan")


class LatestFrameReader:
    """Reads frames on a thread and keeps only the newest; files are paced at their own frame rate."""

    def __init__(self, camera: str) -> None:
        self.index = int(camera) if camera.isdigit() else None
        if self.index is None and _is_pipe(camera):  # OpenCV would wait for a writer forever, deaf to Ctrl-C
            raise InputError(f"{camera}: is a pipe or socket; pass --camera INDEX, a video file or a stream URL")
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
    """Show (and optionally record) the annotated stream until q/Esc, Ctrl-C, max_frames or the end."""
    reader = LatestFrameReader(options.camera)
    stats = LiveStats()
    try:
        # committed on a normal stop, Ctrl-C included; guarded: a stop while they open leaves no file behind
        with guarded(), ExitStack() as stack:
            video = None
            if options.record:
                sink = stack.enter_context(VideoSink(options.record, reader.fps, reader.width, reader.height))
                video = PacedFrames(sink, reader.fps)
            table = stack.enter_context(CsvSink(options.csv)) if options.csv else None
            with suppress(KeyboardInterrupt):  # Ctrl-C is a normal way to stop
                _loop(analyzer, options, reader, stats, video, table, on_frame)
    finally:
        reader.close()
        stats.dropped = reader.dropped
        if options.window:
            cv2.destroyAllWindows()
    return stats


def _loop(
    analyzer: Analyzer,
    options: LiveOptions,
    reader: LatestFrameReader,
    stats: LiveStats,
    video: PacedFrames | None,
    table: CsvSink | None,
    on_frame: Callable[[LiveStats], None] | None,
) -> None:
    tracker = IoUTracker(analyzer.options.tracker)
    smoother = EmaSmoother(options.smooth)
    start = time.perf_counter()
    recent: list[float] = []  # capture times of the last second, for the frames/s overlay
    while options.max_frames is None or stats.shown < options.max_frames:
        check()  # a stop whose KeyboardInterrupt a library swallowed
        got = reader.latest()
        if got is None:
            return
        _, captured, frame = got
        faces = analyzer.analyze_frame(frame, tracker)
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
            table.write(FrameResult(stats.shown, captured - start, frame, True, faces))
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
