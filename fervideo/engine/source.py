"""Frame sources: a video file or a photo, read lazily as a generator of sampled frames."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.errors import InputError, UsageError
from fervideo.core.frames import Frame
from fervideo.core.image_header import image_size
from fervideo.core.layout import IMAGE_SUFFIXES
from fervideo.core.media import picture_sizes
from fervideo.core.paths import local
from fervideo.core.quiet import native_stderr_silenced

FALLBACK_FPS = 25.0


@dataclass
class VideoInfo:
    path: str
    frames: int  # as the container's header says; 0 when unknown
    fps: float
    width: int
    height: int
    is_image: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds, from the header's frame count."""
        return self.frames / self.fps if self.fps else 0.0

    def to_dict(self) -> dict:
        """For the JSON summary."""
        return {
            "path": self.path,
            "size_bytes": Path(self.path).stat().st_size,
            "frames": self.frames,
            "fps": round(self.fps, 6),
            "duration": round(self.duration, 3),
            "width": self.width,
            "height": self.height,
            "is_image": self.is_image,
        }


# 50 megapixels: a 48 MP phone photo fits; decoding is 3 bytes a pixel and the detector's copies come on top
# (a 20000x20000 PNG took 5.6 GB), and above OpenCV's own limit it fails with an internal error
MAX_IMAGE_PIXELS = 50_000_000
MAX_SECONDS = 1e9  # --start/--end beyond this only overflow the arithmetic of timestamps
MAX_FPS = 1000.0  # no video has more frames than this per second


@dataclass(frozen=True)
class Sampling:
    every: int = 1  # keep every N-th frame of the range
    fps: float | None = None  # or about this many frames per second of video time
    start: float = 0.0  # seconds
    end: float | None = None  # seconds, exclusive

    def __post_init__(self) -> None:
        nums = (self.fps, self.start, self.end)
        if self.start is None or any(isinstance(v, bool) or not isinstance(v, (int, float, type(None))) for v in nums):
            raise UsageError("Sampling: start and end are numbers of seconds, fps of frames a second (end, fps: None)")
        if isinstance(self.every, bool) or not isinstance(self.every, int):
            raise UsageError(f"--every is a whole number of frames, not {self.every!r}")
        if self.every > 1 and self.fps is not None:  # the CLI refuses both; one would be ignored
            raise UsageError("give Sampling either every or fps, not both")
        if not math.isfinite(self.start) or (self.end is not None and not math.isfinite(self.end)):
            raise UsageError("--start and --end must be finite numbers of seconds; leave --end out to read to the end")
        if max(self.start, self.end or 0.0) > MAX_SECONDS:
            raise UsageError(f"--start and --end must be at most {MAX_SECONDS:.0e} seconds (about 30 years)")
        if self.every < 1:
            raise UsageError(f"--every must be 1 or more, not {self.every}")
        if self.fps is not None and not 0 < self.fps <= MAX_FPS:
            raise UsageError(f"--fps must be above 0 and at most {MAX_FPS:.0f} (--every 1: all frames), not {self.fps}")
        if self.start < 0 or (self.end is not None and self.end < 0):
            raise UsageError("--start and --end are seconds from the beginning and cannot be negative")
        if self.end is not None and self.end <= self.start:
            raise UsageError(f"--start {self.start} must come before --end {self.end}")


class FrameSampler:
    """Decides frame by frame whether a frame is in range and whether it is analysed."""

    def __init__(self, sampling: Sampling, fps: float) -> None:
        self.sampling = sampling
        self.tolerance = 0.5 / fps  # half a frame, so rounding in timestamps never drops a frame
        self.first: int | None = None
        self.next_time = sampling.start

    def in_range(self, time_s: float) -> bool:
        """Within [start, end)."""
        end = self.sampling.end
        return time_s >= self.sampling.start - self.tolerance and (end is None or time_s < end - self.tolerance)

    def past_end(self, time_s: float) -> bool:
        """No later frame can be in range."""
        return self.sampling.end is not None and time_s >= self.sampling.end - self.tolerance

    def __call__(self, index: int, time_s: float) -> bool:
        """True for frames to analyse; call once per in-range frame, in order."""
        if self.first is None:
            self.first = index
        if self.sampling.fps is None:
            return (index - self.first) % self.sampling.every == 0
        if time_s < self.next_time - self.tolerance:
            return False
        step = 1.0 / self.sampling.fps
        self.next_time += step * max(1, math.floor((time_s + self.tolerance - self.next_time) / step) + 1)
        return True


class VideoSource:
    """An opened input; frames() yields its frames in order. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.frames_read = 0
        self._capture: cv2.VideoCapture | None = None
        self._image: np.ndarray | None = None
        _check_file(self.path)
        if self.path.suffix.lower() in IMAGE_SUFFIXES:
            self._open_image()
        else:
            self._open_video()

    def _open_image(self) -> None:
        size = _header_size(self.path)
        if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
            raise InputError(
                f"{self.path}: {size[0]}x{size[1]} is over fervideo's limit of {MAX_IMAGE_PIXELS // 10**6} megapixels "
                "per image; scale it down first"
            )
        with native_stderr_silenced():  # libjpeg and libpng complain on stderr; the error below says it once
            image = cv2.imread(local(self.path), cv2.IMREAD_COLOR)  # grey, alpha and 16-bit all become 8-bit BGR
        if image is None:
            raise InputError(f"{self.path}: not a readable image (damaged, truncated or not an image at all)")
        warnings = []
        if _jpeg_truncated(self.path):
            warnings.append(
                f"{self.path}: the JPEG is truncated (no end-of-image marker); its missing lower part reads as grey"
            )
        self._image = image
        self.info = VideoInfo(str(self.path), 1, 1.0, image.shape[1], image.shape[0], is_image=True, warnings=warnings)

    def _open_video(self) -> None:
        # one decoding thread: it runs beside the detector in its own thread, and FFmpeg's threads cost more CPU
        # time than they save there (1,872 frames of 640x360 H.264: 0.92 s, 1.21 s with two)
        capture = cv2.VideoCapture(local(self.path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
        # phones store portrait video landscape with a display rotation; OpenCV ignores it unless asked
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        ok, first = capture.read() if capture.isOpened() else (False, None)
        if not ok or first is None:
            capture.release()
            raise InputError(f"{self.path}: not a readable video (no frame could be decoded)")
        fps = capture.get(cv2.CAP_PROP_FPS)
        warnings = []
        if not (math.isfinite(fps) and 0 < fps <= 1000):
            warnings.append(f"{self.path}: the video reports no usable frame rate; assuming {FALLBACK_FPS:g} fps")
            fps = FALLBACK_FPS
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        frames = int(count) if math.isfinite(count) and count > 0 else 0
        self._capture, self._first = capture, first
        self.info = VideoInfo(str(self.path), frames, fps, first.shape[1], first.shape[0], warnings=warnings)
        sizes = picture_sizes(self.path)
        if len(sizes) > 1:  # OpenCV keeps the first size and hands out garbled or frozen frames after a change
            capture.release()
            (_, w0, h0), (when, w1, h1) = sizes[:2]
            raise InputError(
                f"{self.path}: the picture changes size at {when:.2f} s ({w0}x{h0}, then {w1}x{h1}); "
                f"re-encode it to one size first, e.g. ffmpeg -i IN -vf scale={w0}:{h0} OUT.mp4"
            )

    def frames(self, sampling: Sampling = Sampling(), decode_all: bool = True) -> Iterator[Frame]:
        """In-range frames in order; unsampled ones are decoded only when decode_all (for the video)."""
        sampler = FrameSampler(sampling, self.info.fps)
        if self._image is not None:
            # its instant, not a frame's span: a photo's "fps" of 1 would make --end 0.5 fall within half a frame of 0
            if not (sampling.start <= 0.0 and (sampling.end is None or sampling.end > 0.0)):
                raise InputError(f"{self.path}: a photo is one frame at 0 s, outside {_range(sampling)}")
            self.frames_read = 1
            yield Frame(0, 0.0, self._image, sampler(0, 0.0))
            return
        yield from self._video_frames(sampler, decode_all)

    def _video_frames(self, sampler: FrameSampler, decode_all: bool) -> Iterator[Frame]:
        capture, fps = self._capture, self.info.fps
        assert capture is not None
        index, previous, image, yielded = 0, -1.0, self._first, False
        while True:
            time_s = _timestamp(capture, index, fps, previous)
            previous = time_s
            self.frames_read = index + 1
            if sampler.past_end(time_s):
                break
            if sampler.in_range(time_s):
                sampled = sampler(index, time_s)
                if image is None and (sampled or decode_all):
                    ok, image = capture.retrieve()
                    if not ok:
                        break
                    if image.shape[:2] != (self.info.height, self.info.width):
                        raise InputError(
                            f"{self.path}: the picture changes size at frame {index} (from {self.info.width}x"
                            f"{self.info.height} to {image.shape[1]}x{image.shape[0]}); re-encode it to one size"
                        )
                yielded = True
                yield Frame(index, time_s, image if (sampled or decode_all) else None, sampled)
            index += 1
            image = None
            if not capture.grab():
                break
        if not yielded:  # else the outputs would be empty files that look like a result
            raise InputError(
                f"{self.path}: no frame in {_range(sampler.sampling)}; "
                f"its {self.frames_read} decoded frames end at {previous:.3f} s"
            )

    def close(self) -> None:
        """Release the decoder."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from an image file's header, without decoding it; None when the header cannot tell."""
    return image_size(path)  # None: OpenCV decides, and says so in one line


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a video or image (use 'fervideo batch' for folders)")
    if not path.is_file():  # a pipe or a device would block the decoder forever
        raise InputError(f"{path}: not a regular file; save the stream to a file and analyse that")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")


def _range(sampling: Sampling) -> str:
    """The analysed range as the options that set it, for messages."""
    end = "the end" if sampling.end is None else f"--end {sampling.end:g} s"
    return f"the range from --start {sampling.start:g} s to {end}"


def _jpeg_truncated(path: Path) -> bool:
    """True for a JPEG whose entropy-coded data never reaches the end-of-image marker."""
    with open(path, "rb") as f:
        data = f.read(2)
        if data != b"\xff\xd8":  # not a JPEG at all: nothing more to read
            return False
        data += f.read()
    # Walk the header segments by their lengths up to the first start-of-scan, so the end marker of an
    # EXIF thumbnail inside APP1 is not mistaken for the image's own; in scan data 0xFF is always
    # followed by 0x00 or a restart marker, so an 0xFFD9 after that point can only be the real end.
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xFF:  # a fill byte before the marker
            pos += 1
            continue
        if marker == 0xDA:
            break
        pos += 2 + length
    return data.find(b"\xff\xd9", pos) < 0


def _timestamp(capture: cv2.VideoCapture, index: int, fps: float, previous: float) -> float:
    """Presentation time in seconds; falls back to index / fps where the container has no timestamps."""
    pts = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
    if index == 0:
        return max(pts, 0.0) if math.isfinite(pts) else 0.0
    if not math.isfinite(pts) or pts <= previous:
        return max(index / fps, previous + 1e-6)
    return pts
