"""Output writers. Each writes under a temporary name and takes its final name only when complete."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.atomic import AtomicOutput
from fervideo.core.detections import FACE_FEATURES
from fervideo.core.errors import OutputError
from fervideo.core.frames import FrameResult
from fervideo.core.labels import EMOTIONS
from fervideo.core.paths import local
from fervideo.core.signals import deferred
from fervideo.outputs.episodes import valence

# valence after the emotions, so that the 17 columns before it stay where they were; the face mesh's after that
BASE_HEADER = [
    "frame",
    "time_s",
    "face_id",
    "x",
    "y",
    "w",
    "h",
    "face_score",
    "emotion",
    "confidence",
    *EMOTIONS,
    "valence",
]
CSV_HEADER = [*BASE_HEADER, *FACE_FEATURES]
DEGREES = {"yaw", "pitch", "roll", "gaze_yaw", "gaze_pitch"}  # written to 0.1 degree, the rest to 0.001


def check_frame(frame: np.ndarray, size: tuple[int, int]) -> None:
    """A frame must be (height, width, 3) uint8 of the video's size: another shape would garble every frame after."""
    if frame.shape != (size[1], size[0], 3) or frame.dtype != np.uint8:
        raise OutputError(f"a {frame.shape} {frame.dtype} frame does not fit a {size[0]}x{size[1]} BGR video")


class CsvSink(AtomicOutput):
    """Streams one row per face per analysed frame; a frame without faces still gets a row."""

    def __init__(self, final: Path) -> None:
        super().__init__(final)
        self._file = open(self.tmp, "w", newline="")  # noqa: SIM115 (closed in close(), also on abort)
        self._writer = csv.writer(self._file)
        self._writer.writerow(CSV_HEADER)

    def write(self, result: FrameResult) -> None:
        """Append the rows of one frame; frames that were not analysed write nothing."""
        if not result.analysed:
            return
        faces, time_s = result.faces, f"{result.time_s:.4f}"
        if len(faces) == 0:
            self._writer.writerow([result.index, time_s] + [""] * (len(CSV_HEADER) - 2))
            return
        for i in range(len(faces)):
            x0, y0, x1, y1 = faces.xyxy[i]
            probs = faces.probs[i]
            top = int(np.argmax(probs))
            self._writer.writerow(
                [
                    result.index,
                    time_s,
                    int(faces.tracker_id[i]),
                    round(float(x0)),
                    round(float(y0)),
                    round(float(x1 - x0)),
                    round(float(y1 - y0)),
                    f"{faces.confidence[i]:.4f}",
                    EMOTIONS[top],
                    f"{probs[top]:.4f}",
                    *(f"{p:.6f}" for p in probs),
                    f"{valence(probs)[0]:.6f}",
                    *_features(faces.features, i),
                ]
            )

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def _features(features: np.ndarray | None, i: int) -> list[str]:
    """The face-mesh cells of face i: empty where not computed (--no-face-features) or the mesh found no face."""
    if features is None or np.isnan(features[i]).any():
        return [""] * len(FACE_FEATURES)
    cells = [f"{v:.1f}" if name in DEGREES else f"{v:.3f}" for name, v in zip(FACE_FEATURES, features[i], strict=True)]
    cells[-1] = str(int(features[i, -1]))
    return cells


class VideoSink(AtomicOutput):
    """An mp4 of the annotated frames, same size and frame rate as the source."""

    def __init__(self, final: Path, fps: float, width: int, height: int) -> None:
        super().__init__(final)
        self.size, self.written = (width, height), 0
        self._writer = cv2.VideoWriter(local(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, self.size)
        if not self._writer.isOpened():
            self.discard()
            raise OutputError(f"{final}: OpenCV could not open a video writer ({width}x{height} at {fps:g} fps)")

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame of the source's size."""
        check_frame(frame, self.size)
        with deferred():  # a stop between the write and the count would make close() see one frame too many
            self._writer.write(frame)
            self.written += 1

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        check = cv2.VideoCapture(local(self.tmp))
        readable = int(check.get(cv2.CAP_PROP_FRAME_COUNT)) if check.isOpened() else -1
        check.release()
        if readable != self.written:  # OpenCV drops write errors silently (a full disk, say)
            raise OutputError(f"{self.final}: the video writer stored {readable} of {self.written} frames; disk full?")

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None


class ImageSink(AtomicOutput):
    """The annotated photo, in the input's format where OpenCV can write it."""

    def __init__(self, final: Path) -> None:
        super().__init__(final)
        self.frame: np.ndarray | None = None

    def write(self, frame: np.ndarray) -> None:
        """Keep the one annotated frame."""
        self.frame = frame

    def close(self) -> None:
        if self.frame is not None and not cv2.imwrite(str(self.tmp), self.frame):
            raise OutputError(f"{self.final}: could not write the annotated image")
        self.frame = None

    def abort(self) -> None:
        self.frame = None


class PacedFrames:
    """Frames into a video of a fixed rate by their own timestamps: the last one repeats over a gap (a variable-rate
    source, a live frame dropped), and one whose slot is taken already is dropped, so picture and clock agree."""

    def __init__(self, sink: VideoSink, fps: float) -> None:
        self.sink, self.fps = sink, fps
        self._first: float | None = None
        self._last: np.ndarray | None = None

    def write(self, frame: np.ndarray, time_s: float) -> None:
        """Place frame at time_s, counted from the first frame's time."""
        self._first = time_s if self._first is None else self._first
        slot = round((time_s - self._first) * self.fps)
        while self._last is not None and self.sink.written < slot:
            self.sink.write(self._last)
        if self.sink.written <= slot or self._last is None:
            self.sink.write(frame)
        self._last = frame
