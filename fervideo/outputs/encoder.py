"""Browser-ready video: H.264 (yuv420p, faststart) through ffmpeg, with the source's sound.

The ffmpeg is imageio-ffmpeg's (the `video` extra) or the one on PATH. Frames are piped to it as raw BGR; the audio
is taken from the source file itself, cut to the analysed range and copied unchanged where mp4 can hold it. When no
ffmpeg with libx264 is found the caller gets OpenCV's mp4v writer instead (open_video_sink), and the command line
says so once (NO_H264).
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.atomic import AtomicOutput
from fervideo.core.errors import OutputError
from fervideo.core.media import FfmpegUnavailable, ffmpeg_exe, ffmpeg_origin, probe
from fervideo.core.paths import local
from fervideo.core.signals import deferred
from fervideo.outputs.sinks import VideoSink, check_frame

CODECS = ("h264", "mp4v")
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}  # what the mp4 muxer stores as it is
# the one line the command line prints when h264 was asked for and open_video_sink falls back to mp4v
NO_H264 = (
    "no H.264 encoder here ({why}): annotated videos are MPEG-4 without sound, which browsers do not play; "
    "`pip install imageio-ffmpeg` (or an ffmpeg with libx264 on PATH) gives H.264 with sound"
)


class H264Sink(AtomicOutput):
    """An H.264 mp4 of the annotated frames at the source's size and rate, with the source's audio range."""

    def __init__(
        self,
        final: Path,
        fps: float,
        width: int,
        height: int,
        audio_from: Path | None = None,
        start: float = 0.0,
        end: float | None = None,
    ) -> None:
        exe = ffmpeg_exe()  # first: without one, the caller falls back before any output is registered
        super().__init__(final)
        self.size, self.written = (width, height), 0
        self.encoder = ffmpeg_origin(exe)  # for the JSON summary: "imageio-ffmpeg", or "ffmpeg" from PATH
        audio = _plan_audio(audio_from, start, end)
        self.audio, self.warnings = audio.note, audio.warnings
        rate = Fraction(fps).limit_denominator(100_000)
        command = [exe, "-hide_banner", "-loglevel", "error", "-nostats", "-y"]
        # even sides: the frames go as the I420 the encoder wants (OpenCV's BT.601 limited range, as ffmpeg's own),
        # half the bytes down the pipe and no conversion in ffmpeg: 1.4 of ffmpeg's 8.1 CPU seconds on 1,872 frames
        self._i420 = width % 2 == 0 and height % 2 == 0
        pixels = "yuv420p" if self._i420 else "bgr24"
        command += ["-f", "rawvideo", "-pix_fmt", pixels, "-s", f"{width}x{height}", "-framerate", str(rate)]
        command += ["-i", "pipe:0", *audio.inputs, "-map", "0:v:0", *(["-map", "1:a:0"] if audio.inputs else [])]
        if width % 2 or height % 2:  # yuv420p needs even sides: one black pixel is added, never a pixel cut
            command += ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
            self.warnings.append(f"{final}: {width}x{height} has an odd side; padded by one pixel for H.264")
        command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", *audio.outputs]
        command += ["-movflags", "+faststart", "-f", "mp4", local(self.tmp)]
        # stderr goes to a file, not a pipe, so that ffmpeg can never block on a full one
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close() and abort())
        try:
            # deferred: a Ctrl-C inside Popen would lose the handle while ffmpeg runs on, and at its input's end
            # it writes the file anyway
            with deferred():
                self._proc = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log
                )
        except OSError as exc:
            self._log.close()
            raise OutputError(f"{final}: could not start ffmpeg: {exc}") from exc

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame of the source's size."""
        check_frame(frame, self.size)
        try:
            with deferred():  # a stop mid-frame would leave ffmpeg a partial frame, or a frame left uncounted
                raw = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420) if self._i420 else np.ascontiguousarray(frame)
                self._proc.stdin.write(raw.data)
                self.written += 1
        except (BrokenPipeError, OSError):
            self._proc.wait()
            raise OutputError(f"{self.final}: ffmpeg stopped writing the video: {self._last_error()}") from None

    def close(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        with contextlib.suppress(OSError):  # it already exited; its status and log say why
            proc.stdin.close()
        code = proc.wait()
        message = self._last_error()
        self._log.close()
        if code != 0:
            raise OutputError(f"{self.final}: ffmpeg failed (exit status {code}): {message}")
        check = cv2.VideoCapture(local(self.tmp))
        readable = int(check.get(cv2.CAP_PROP_FRAME_COUNT)) if check.isOpened() else -1
        check.release()
        if readable != self.written:
            raise OutputError(f"{self.final}: ffmpeg stored {readable} of {self.written} frames; disk full?")

    def abort(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
            self._log.close()

    def _last_error(self) -> str:
        """ffmpeg's last line on stderr, which names the problem."""
        self._log.seek(0)
        lines = [line.strip() for line in self._log.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1] if lines else "no message"


@dataclass
class _Audio:
    inputs: list[str]  # ffmpeg options that open the source's sound, cut to the range
    outputs: list[str]  # how it is stored
    note: str | None  # what became of it, for the JSON summary
    warnings: list[str]


def _plan_audio(source: Path | None, start: float, end: float | None) -> _Audio:
    """How the source's sound is carried over, cut to [start, end): copied when mp4 can hold it, else AAC."""
    codec = probe(source).audio_codec if source is not None else None
    if codec is None:
        return _Audio([], [], None, [])
    cut = ["-ss", f"{start:.6f}"] if start > 0 else []
    cut += [] if end is None else ["-t", f"{max(end - start, 0.001):.6f}"]
    inputs = [*cut, "-i", local(source)]
    if codec in MP4_AUDIO:
        return _Audio(inputs, ["-c:a", "copy"], f"{codec}, copied", [])
    warning = f"{source}: its {codec} audio cannot be stored in mp4 unchanged; re-encoded as AAC"
    return _Audio(inputs, ["-c:a", "aac", "-b:a", "192k"], f"{codec}, re-encoded as AAC", [warning])


def open_video_sink(
    final: Path,
    fps: float,
    width: int,
    height: int,
    codec: str = "h264",
    audio_from: Path | None = None,
    start: float = 0.0,
    end: float | None = None,
) -> tuple[AtomicOutput, list[str]]:
    """The annotated-video writer for codec and any warnings; h264 falls back to mp4v when no ffmpeg has libx264."""
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {CODECS}, not {codec!r}")
    if codec == "h264":
        try:
            sink = H264Sink(final, fps, width, height, audio_from, start, end)
            return sink, sink.warnings
        except FfmpegUnavailable:
            pass  # the lean install's normal case: the JSON's video.encoder says "opencv", the CLI notes it once
    return VideoSink(final, fps, width, height), []


def missing_h264() -> str | None:
    """NO_H264 with the reason filled in when h264 would fall back to mp4v here; None when an ffmpeg has libx264."""
    try:
        ffmpeg_exe()
    except FfmpegUnavailable as exc:
        return NO_H264.format(why=exc)
    return None
