"""Defects a hostile user found in unusual streams: variable frame rates, a size change mid-stream."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest

from fervideo.core.media import ffmpeg_exe, probe
from tests.helpers import one_error_line, run


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=120)


def frames_with_times(path) -> list[tuple[float, np.ndarray]]:
    capture = cv2.VideoCapture(str(path))
    out = []
    while capture.grab():
        small = cv2.resize(capture.retrieve()[1], (96, 72), interpolation=cv2.INTER_AREA)  # the labels drawn blur out
        out.append((capture.get(cv2.CAP_PROP_POS_MSEC) / 1000, small.astype(np.float32)))
    capture.release()
    return out


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory):
    """2 s at 10 fps, then 8 frames half a second apart (as a phone writes when the scene goes still), with sound."""
    clip = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    pts = "if(lt(N,20),N*0.1,2+(N-20)*0.5)/TB"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2.8"),
        *("-f", "lavfi", "-i", "sine=frequency=440:duration=6"),
        *("-vf", f"setpts='{pts}'", "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", "-shortest", str(clip)),
    )
    return clip


def test_a_variable_frame_rate_video_stays_in_step_with_its_timestamps(vfr_clip, tmp_path, capsys):
    code, err = run(capsys, "analyze", str(vfr_clip), "-o", str(tmp_path), "--every", "5")
    assert code == 0, err
    source, written = frames_with_times(vfr_clip), frames_with_times(tmp_path / "vfr.annotated.mp4")
    assert abs(probe(tmp_path / "vfr.annotated.mp4").duration - probe(vfr_clip).duration) < 0.4
    assert source[-1][0] > 5.4  # the clip really is variable: 28 frames over 5.5 s
    for t in (1.0, 2.6, 3.6, 4.6, 5.3):  # what the source shows at t is what the annotated video shows at t
        shown = max(i for i, (ts, _) in enumerate(source) if ts <= t + 1e-3)
        _, frame = min(written, key=lambda item: abs(item[0] - t))
        nearest = min(range(len(source)), key=lambda i: np.mean((source[i][1] - frame) ** 2))
        assert abs(nearest - shown) <= 1, (t, nearest, shown)


def test_a_phone_clip_with_a_variable_rate_keeps_picture_and_sound_together(tmp_path, capsys):
    from tests.conftest import shared_path

    clip = shared_path("media", "face_noface.mov")  # 26.4 fps on average, 30 at times; was 0.36 s off
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path), "--every", "5")
    assert code == 0, err
    source, written = frames_with_times(clip), frames_with_times(tmp_path / "face_noface.annotated.mp4")
    for t in np.arange(0.5, 6.0, 0.5):
        shown = max(ts for ts, _ in source if ts <= t + 1e-3)
        _, frame = min(written, key=lambda item: abs(item[0] - t))
        nearest = min(source, key=lambda item: np.mean((item[1] - frame) ** 2))[0]
        assert abs(nearest - shown) < 0.08, (t, nearest, shown)  # within two frames, not a third of a second


def test_a_picture_that_changes_size_mid_stream_is_refused_in_one_line(tmp_path, capsys):
    parts = []
    for name, size in (("a", "160x120"), ("b", "320x240")):
        parts.append(tmp_path / f"{name}.ts")
        ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate=10:duration=2", "-pix_fmt", "yuv420p", str(parts[-1]))
    joined = tmp_path / "joined.ts"  # two recordings cut together, as a camera or a `cat` of streams makes them
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    code, err = run(capsys, "analyze", str(joined), "-o", str(tmp_path / "out"))
    assert code == 1
    line = one_error_line(err)
    assert "changes size at 2.00 s" in line and "160x120, then 320x240" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_size_check_sees_one_size_in_an_ordinary_clip():
    from fervideo.core.media import picture_sizes
    from tests.conftest import SAMPLE

    assert [size[1:] for size in picture_sizes(SAMPLE)] == [(640, 360)]
