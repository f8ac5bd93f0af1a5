"""fervideo.outputs.encoder: H.264 with the source's sound through imageio-ffmpeg's ffmpeg, and the mp4v fallback."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from fervideo.core.errors import OutputError
from fervideo.outputs import encoder
from fervideo.outputs.encoder import FfmpegUnavailable, H264Sink, ffmpeg_exe, open_video_sink, probe
from fervideo.outputs.sinks import VideoSink
from tests.helpers import audio_seconds

FPS, WIDTH, HEIGHT, SECONDS = 25, 160, 120, 3.0


def top_level_boxes(path: Path) -> list[str]:
    """The mp4's top-level box names in file order (moov before mdat means faststart)."""
    data, names, offset = Path(path).read_bytes(), [], 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        names.append(name.decode("latin-1"))
        offset += size if size else len(data)
    return names


def frames_and_size(path: Path) -> tuple[int, int, int, str]:
    """(decoded frames, width, height, FOURCC) as OpenCV reads the file."""
    capture = cv2.VideoCapture(str(path))
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("latin-1")
    size = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    frames = 0
    while capture.grab():
        frames += 1
    capture.release()
    return frames, *size, fourcc


def make_clip(path: Path, seconds: float = SECONDS, audio: str = "aac", fps: int = FPS) -> Path:
    """A test source: moving grey frames piped to ffmpeg, with a 440 Hz sine tone as its sound."""
    frames = np.stack([np.full((HEIGHT, WIDTH, 3), (i * 7) % 256, np.uint8) for i in range(round(seconds * fps))])
    command = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{WIDTH}x{HEIGHT}"]
    command += ["-framerate", str(fps), "-i", "pipe:0", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", audio, "-shortest", str(path)]
    subprocess.run(command, input=frames.tobytes(), check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("src") / "tone.mp4")


def write(sink, count: int, width: int = WIDTH, height: int = HEIGHT) -> None:
    with sink:
        for i in range(count):
            sink.write(np.full((height, width, 3), (i * 10) % 256, np.uint8))


def test_h264_is_browser_ready(tmp_path):
    final = tmp_path / "out.mp4"
    write(H264Sink(final, FPS, WIDTH, HEIGHT), 20)
    info = probe(final)
    assert (info.video_codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", WIDTH, HEIGHT)
    assert info.audio_codec is None
    assert frames_and_size(final) == (20, WIDTH, HEIGHT, "h264")  # OpenCV names the codec, not the tag
    boxes = top_level_boxes(final)
    assert boxes.index("moov") < boxes.index("mdat")  # faststart: playable while it downloads
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_sound_is_copied_whole(tmp_path, clip):
    final = tmp_path / "out.mp4"
    sink = H264Sink(final, FPS, WIDTH, HEIGHT, audio_from=clip)
    write(sink, round(SECONDS * FPS))
    assert probe(final).audio_codec == "aac" and sink.audio == "aac, copied"
    assert audio_seconds(final) == pytest.approx(audio_seconds(clip), abs=2 / FPS)


def test_sound_is_cut_to_the_range(tmp_path, clip):
    final = tmp_path / "out.mp4"
    write(H264Sink(final, FPS, WIDTH, HEIGHT, audio_from=clip, start=1.0, end=2.2), 30)
    assert frames_and_size(final)[0] == 30
    assert audio_seconds(final) == pytest.approx(1.2, abs=2 / FPS)


def test_sound_mp4_cannot_hold_is_reencoded(tmp_path):
    source = make_clip(tmp_path / "pcm.mkv", seconds=1.0, audio="pcm_s16le")
    final = tmp_path / "out.mp4"
    sink = H264Sink(final, FPS, WIDTH, HEIGHT, audio_from=source)
    write(sink, FPS)
    assert probe(final).audio_codec == "aac" and "re-encoded as AAC" in sink.warnings[0]
    assert audio_seconds(final) == pytest.approx(1.0, abs=2 / FPS)


def test_odd_size_is_padded_not_cut(tmp_path):
    final = tmp_path / "out.mp4"
    sink = H264Sink(final, FPS, 75, 51)
    write(sink, 5, 75, 51)
    assert frames_and_size(final)[:3] == (5, 76, 52) and "odd side" in sink.warnings[0]


def test_exception_leaves_nothing(tmp_path):
    final = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), H264Sink(final, FPS, WIDTH, HEIGHT) as sink:
        sink.write(np.zeros((HEIGHT, WIDTH, 3), np.uint8))
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_lost_frames_leave_nothing(tmp_path):
    with pytest.raises(OutputError, match="stored 2 of 3 frames"), H264Sink(tmp_path / "o.mp4", FPS, 32, 32) as sink:
        sink.write(np.zeros((32, 32, 3), np.uint8))
        sink.write(np.zeros((32, 32, 3), np.uint8))
        sink.written += 1  # as if a frame had been lost on the way
    assert list(tmp_path.iterdir()) == []


def test_ffmpeg_failure_says_why(tmp_path):
    final = tmp_path / "missing-folder" / "out.mp4"
    with pytest.raises(OutputError) as info, H264Sink(final, FPS, 32, 32) as sink:
        for _ in range(200):  # ffmpeg cannot open its output; the pipe breaks or the exit status says so
            sink.write(np.zeros((32, 32, 3), np.uint8))
    assert "out.mp4" in str(info.value) and "No such file or directory" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_mp4v_on_request_and_as_fallback(tmp_path, monkeypatch):
    sink, warnings = open_video_sink(tmp_path / "a.mp4", FPS, 32, 32, codec="mp4v")
    assert isinstance(sink, VideoSink) and warnings == []
    sink.abort()

    def unusable() -> str:
        raise FfmpegUnavailable("neither imageio-ffmpeg nor an ffmpeg on PATH is installed")

    monkeypatch.setattr(encoder, "ffmpeg_exe", unusable)
    sink, warnings = open_video_sink(tmp_path / "b.mp4", FPS, 32, 32, audio_from=tmp_path / "a.mp4")
    assert isinstance(sink, VideoSink) and warnings == []  # the command line warns once (test_encoder_fallback)
    sink.abort()


def test_imageio_ffmpeg_comes_first_and_is_named(tmp_path):
    final = tmp_path / "out.mp4"
    with H264Sink(final, FPS, 32, 32) as sink:
        sink.write(np.zeros((32, 32, 3), np.uint8))
    assert sink.encoder == "imageio-ffmpeg" and "imageio_ffmpeg" in ffmpeg_exe()
