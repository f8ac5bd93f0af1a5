"""`fervideo analyze` and its video outputs: smoothing, the HTML report, H.264 with the sound, the mp4v fallback."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest

import fervideo
from fervideo.core.labels import EMOTIONS
from fervideo.engine.smoothing import EmaSmoother
from fervideo.outputs import encoder
from fervideo.outputs.encoder import FfmpegUnavailable, ffmpeg_exe, probe
from fervideo.outputs.timeline import HEADER, PANEL, WIDTH
from tests.conftest import SAMPLE
from tests.helpers import (
    Page,
    assert_same_tracks,
    audio_seconds,
    check_probabilities,
    read_csv,
    read_json,
    run,
    video_shape,
)

pytestmark = pytest.mark.integration


def test_smoothed_report_and_browser_ready_video(tmp_path, capsys, media):
    """The issue's acceptance run: --smooth 0.5 --report on single_face.mp4, checked against a raw run."""
    source = media("single_face.mp4")
    out = tmp_path / "smooth"
    code, err = run(capsys, "analyze", str(source), "-o", str(out), "--smooth", "0.5", "--report")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "single_face.annotated.mp4",
        "single_face.csv",
        "single_face.episodes.csv",
        "single_face.json",
        "single_face.report.html",
        "single_face.timeline.png",
    ]
    video = probe(out / "single_face.annotated.mp4")
    assert (video.video_codec, video.pix_fmt, video.width, video.height) == ("h264", "yuv420p", 640, 360)
    assert video_shape(out / "single_face.annotated.mp4") == (72, 640, 360)
    assert video.audio_codec == probe(source).audio_codec == "mp3"  # the sound, carried over unchanged
    assert audio_seconds(out / "single_face.annotated.mp4") == pytest.approx(audio_seconds(source), abs=2 / 30)
    summary = read_json(out / "single_face.json")
    assert summary["smoothing"]["seconds"] == 0.5
    assert summary["video"] == {"codec": "h264", "encoder": "imageio-ffmpeg", "audio": "mp3, copied"}
    page = Page((out / "single_face.report.html").read_text())
    assert "Track #1" in " ".join(page.text) and page.pngs() == [(out / "single_face.timeline.png").read_bytes()]
    assert cv2.imread(str(out / "single_face.timeline.png")).shape == (HEADER + PANEL, WIDTH, 3)

    assert run(capsys, "analyze", str(source), "-o", str(tmp_path / "raw"), "--no-video", "-q", "--smooth", "0")[0] == 0
    raw, smooth = read_csv(tmp_path / "raw" / "single_face.csv"), read_csv(out / "single_face.csv")
    check_probabilities(smooth)  # rows sum to 1, emotion and confidence are those of the smoothed columns
    assert [(r["frame"], r["face_id"]) for r in raw] == [(r["frame"], r["face_id"]) for r in smooth]
    reference = EmaSmoother(0.5)
    for before, after in zip(raw, smooth, strict=True):
        probs = np.array([[float(before[e]) for e in EMOTIONS]])
        expected = reference(np.array([int(before["face_id"])]), probs, float(before["time_s"]))[0]
        # time_s has 4 decimals in the CSV: a frame gap off by 1e-4 s moves the EMA weight by 2e-4, times the
        # frame's change in probability (up to about 1); an error in the smoothing itself would be far larger
        np.testing.assert_allclose([float(after[e]) for e in EMOTIONS], expected, atol=3e-4)
    assert max(abs(float(a["happy"]) - float(b["happy"])) for a, b in zip(raw, smooth, strict=True)) > 0.01
    assert_same_tracks(summary["tracks"], fervideo.summarize(fervideo.load_results(out / "single_face.csv")))


def test_sound_is_cut_to_the_analysed_range(tmp_path, capsys):
    source = tmp_path / "toned.mp4"
    command = [ffmpeg_exe(), "-v", "error", "-i", str(SAMPLE), "-f", "lavfi", "-i", "sine=frequency=440:duration=6"]
    subprocess.run([*command, "-c:v", "copy", "-c:a", "aac", "-shortest", str(source)], check=True, timeout=60)
    code, err = run(capsys, "analyze", str(source), "-o", str(tmp_path), "--start", "1", "--end", "3", "--every", "5")
    assert code == 0, err
    annotated = tmp_path / "toned.annotated.mp4"
    assert video_shape(annotated) == (50, 640, 360)  # 25 fps
    assert probe(annotated).audio_codec == "aac"
    assert audio_seconds(annotated) == pytest.approx(2.0, abs=2 / 25)


def test_without_ffmpeg_the_cli_warns_and_writes_mp4v(tmp_path, capsys, monkeypatch):
    def unusable() -> str:
        raise FfmpegUnavailable("neither imageio-ffmpeg nor an ffmpeg on PATH is installed")

    monkeypatch.setattr(encoder, "ffmpeg_exe", unusable)
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--end", "0.4")
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "MPEG-4" in warnings[0] and "pip install imageio-ffmpeg" in warnings[0]
    assert read_json(tmp_path / "demo.json")["video"] == {"codec": "mp4v", "encoder": "opencv", "audio": None}
    assert video_shape(tmp_path / "demo.annotated.mp4") == (10, 640, 360)
