"""Without imageio-ffmpeg: the ffmpeg on PATH, else OpenCV's mp4v with every guarantee of the H.264 writer."""

from __future__ import annotations

import os
import shutil
import sys

import cv2
import numpy as np
import pytest

from fervideo.core.errors import OutputError
from fervideo.core.media import NO_FFMPEG, FfmpegUnavailable, ffmpeg_exe
from fervideo.outputs.encoder import H264Sink, missing_h264, open_video_sink, probe
from fervideo.outputs.sinks import VideoSink
from tests.conftest import SAMPLE
from tests.helpers import read_json, run, video_shape

FPS, WIDTH, HEIGHT, FRAMES = 25, 96, 64, 12


def frames() -> list[np.ndarray]:
    """Frames that differ from each other: a white square moving over a grey ramp."""
    ramp = np.tile(np.linspace(0, 200, WIDTH, dtype=np.uint8), (HEIGHT, 1))
    out = []
    for i in range(FRAMES):
        frame = np.repeat(ramp[:, :, None], 3, axis=2)
        frame[16:48, 4 + 6 * i : 36 + 6 * i] = 255
        out.append(frame)
    return out


def read_back(path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"OpenCV cannot open {path}"
    decoded = []
    while (got := capture.read())[0]:
        decoded.append(got[1])
    capture.release()
    return decoded


@pytest.fixture
def real_ffmpeg() -> str:
    """imageio-ffmpeg's executable, found before a test hides the package."""
    ffmpeg_exe.cache_clear()
    try:
        return ffmpeg_exe()
    finally:
        ffmpeg_exe.cache_clear()


@pytest.fixture
def hide_imageio_ffmpeg(monkeypatch, tmp_path):
    """No imageio-ffmpeg and an empty PATH: the lean install on a machine without ffmpeg; a folder to put one in."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    monkeypatch.setenv("PATH", str(folder))
    ffmpeg_exe.cache_clear()
    yield folder
    ffmpeg_exe.cache_clear()


def test_without_any_ffmpeg_h264_falls_back_to_a_readable_mp4v(hide_imageio_ffmpeg, tmp_path):
    with pytest.raises(FfmpegUnavailable, match=NO_FFMPEG):
        ffmpeg_exe()
    final = tmp_path / "out.mp4"
    sink, warnings = open_video_sink(final, FPS, WIDTH, HEIGHT, codec="h264", audio_from=SAMPLE)
    assert isinstance(sink, VideoSink) and warnings == []  # the command line says it once, not each file
    written = frames()
    with sink:
        for frame in written:
            sink.write(frame)
        assert not final.exists()  # the final name only once complete
    decoded = read_back(final)
    assert len(decoded) == FRAMES and decoded[0].shape == (HEIGHT, WIDTH, 3)
    errors = np.array([[np.abs(a.astype(int) - b.astype(int)).mean() for b in written] for a in decoded])
    assert errors.diagonal().max() < 6  # MPEG-4 is lossy, but each frame is its own and in its place
    assert list(errors.argmin(axis=1)) == list(range(FRAMES))
    assert int(cv2.VideoCapture(str(final)).get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little") in (b"mp4v", b"FMP4")


def test_the_fallback_note_names_a_working_fix(hide_imageio_ffmpeg):
    note = missing_h264()
    assert note is not None and "\n" not in note
    assert NO_FFMPEG in note and "MPEG-4 without sound" in note and "`pip install imageio-ffmpeg`" in note


def test_the_fallback_leaves_nothing_after_an_exception_or_lost_frames(hide_imageio_ffmpeg, tmp_path):
    with pytest.raises(RuntimeError), open_video_sink(tmp_path / "a.mp4", FPS, WIDTH, HEIGHT)[0] as sink:
        sink.write(frames()[0])
        raise RuntimeError("stop")
    with (
        pytest.raises(OutputError, match="stored 2 of 3 frames"),
        open_video_sink(tmp_path / "b.mp4", FPS, WIDTH, HEIGHT)[0] as sink,
    ):
        sink.write(frames()[0])
        sink.write(frames()[1])
        sink.written += 1  # as if the disk had taken one frame less
    assert sorted(os.listdir(tmp_path)) == ["bin"]


def test_the_ffmpeg_on_path_writes_h264_when_imageio_ffmpeg_is_missing(real_ffmpeg, hide_imageio_ffmpeg, tmp_path):
    os.symlink(real_ffmpeg, hide_imageio_ffmpeg / "ffmpeg")
    assert ffmpeg_exe() == shutil.which("ffmpeg") and missing_h264() is None
    final = tmp_path / "out.mp4"
    sink, _ = open_video_sink(final, FPS, WIDTH, HEIGHT, audio_from=SAMPLE)
    assert isinstance(sink, H264Sink) and sink.encoder == "ffmpeg"
    with sink:
        for frame in frames():
            sink.write(frame)
    assert probe(final).video_codec == "h264" and len(read_back(final)) == FRAMES


def test_an_ffmpeg_without_libx264_is_passed_over_and_named(hide_imageio_ffmpeg):
    fake = hide_imageio_ffmpeg / "ffmpeg"
    fake.write_text('#!/bin/sh\necho " V..... mpeg4 MPEG-4 part 2"\n')  # a build with no H.264 encoder
    fake.chmod(0o755)
    with pytest.raises(FfmpegUnavailable, match=f"{fake} has no libx264 encoder"):
        ffmpeg_exe()


def test_analyze_without_ffmpeg_warns_once_and_records_the_encoder(hide_imageio_ffmpeg, tmp_path, capsys):
    other = tmp_path / "other.mp4"
    shutil.copy(SAMPLE, other)
    out = tmp_path / "out"
    code, err = run(capsys, "analyze", str(SAMPLE), str(other), "-o", str(out), "--end", "0.4")
    assert code == 0
    notes = [line for line in err.splitlines() if "H.264" in line]
    assert len(notes) == 1 and notes[0].startswith("warning: no H.264 encoder here")
    for name in ("demo", "other"):
        summary = read_json(out / f"{name}.json")
        assert summary["video"] == {"codec": "mp4v", "encoder": "opencv", "audio": None}
        assert not [w for w in summary["warnings"] if "H.264" in w or "mp4v" in w]
        assert video_shape(out / f"{name}.annotated.mp4") == (10, 640, 360)


def test_no_warning_when_it_does_not_apply(hide_imageio_ffmpeg, tmp_path, capsys):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path / "a"), "--end", "0.2", "--codec", "mp4v")
    assert code == 0 and "H.264" not in err
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path / "b"), "--end", "0.2", "--no-video")
    assert code == 0 and "H.264" not in err


def test_batch_without_ffmpeg_warns_once_before_its_inputs(hide_imageio_ffmpeg, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(SAMPLE, folder / name)
    code, err = run(capsys, "batch", str(folder), "-o", str(tmp_path / "out"), "--end", "0.2", "--workers", "1")
    assert code == 0
    notes = [line for line in err.splitlines() if "H.264" in line]
    assert len(notes) == 1 and notes[0].startswith("warning: no H.264 encoder here")
    assert err.splitlines()[0] == notes[0]  # before the first input's line
