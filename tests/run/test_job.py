"""fervideo.run.job.analyze_file: which outputs appear, what the JSON records, and failures that leave nothing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fervideo.core.errors import OutputError
from fervideo.core.frames import FrameResult
from fervideo.outputs import encoder
from fervideo.outputs.encoder import FfmpegUnavailable, ffmpeg_exe, probe
from fervideo.outputs.moments import THUMB_SIZE, PeakMoments
from fervideo.run.job import analyze_file
from tests.helpers import FRAMES, faces, make_step_video, read_json, scripted_analyzer


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_step_video(tmp_path_factory.mktemp("clip") / "step.mp4")


def test_all_outputs_and_what_the_json_records(video, tmp_path):
    summary = analyze_file(video, tmp_path, scripted_analyzer(smooth=0.5), report=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "step.annotated.mp4",
        "step.csv",
        "step.episodes.csv",
        "step.json",
        "step.report.html",
        "step.timeline.png",
    ]
    assert read_json(tmp_path / "step.json") == summary
    assert summary["smoothing"]["seconds"] == 0.5
    assert summary["video"] == {"codec": "h264", "encoder": "imageio-ffmpeg", "audio": None}
    assert sorted(summary["outputs"]) == ["csv", "episodes", "json", "report", "timeline", "video"]
    info = probe(tmp_path / "step.annotated.mp4")
    assert (info.video_codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 64, 32)
    assert [t["seconds"] for t in summary["tracks"]] == [pytest.approx(3.0), pytest.approx(1.5)]


def test_no_report_unless_asked(video, tmp_path):
    summary = analyze_file(video, tmp_path, scripted_analyzer(), codec="mp4v")
    assert sorted(summary["outputs"]) == ["csv", "episodes", "json", "video"]
    assert summary["smoothing"]["seconds"] == 0.0 and summary["video"]["codec"] == "mp4v"
    assert probe(tmp_path / "step.annotated.mp4").video_codec == "mpeg4"


def test_without_ffmpeg_the_video_is_mp4v_and_says_so_in_the_json(video, tmp_path, monkeypatch):
    def unusable() -> str:
        raise FfmpegUnavailable("neither imageio-ffmpeg nor an ffmpeg on PATH is installed")

    monkeypatch.setattr(encoder, "ffmpeg_exe", unusable)
    summary = analyze_file(video, tmp_path, scripted_analyzer())
    assert summary["video"] == {"codec": "mp4v", "encoder": "opencv", "audio": None}
    assert summary["warnings"] == []  # the library stays quiet: the command line warns once per run
    capture = cv2.VideoCapture(str(tmp_path / "step.annotated.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    capture.release()


def test_an_encoder_failure_leaves_no_output_and_says_why(video, tmp_path, monkeypatch):
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        '#!/bin/sh\ncase "$*" in *-encoders*) echo " V..... libx264 fake"; exit 0;; esac\n'
        'echo "Conversion failed: the disk is on fire" >&2\nexit 1\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))
    ffmpeg_exe.cache_clear()
    out = tmp_path / "out"
    try:
        with pytest.raises(OutputError, match="the disk is on fire") as info:
            analyze_file(video, out, scripted_analyzer())
    finally:
        ffmpeg_exe.cache_clear()
    assert "step.annotated.mp4" in str(info.value)
    assert list(out.iterdir()) == []  # no final name, no temporary file, not even the CSV


def test_peak_moments_keep_one_small_face_per_emotion():
    moments = PeakMoments()
    image = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    for i in range(50):
        moments.update(FrameResult(i, i / 25, image, True, faces(2, seed=i)))
    moments.update(FrameResult(50, 2.0, image, False, faces(2, seed=99)))  # carried forward: not a new moment
    found = moments.by_track()
    assert sorted(found) == [1, 2] and all(len(m) == 7 for m in found.values())
    for track, items in found.items():
        probs = np.stack([faces(2, seed=i).probs[track - 1] for i in range(50)])
        assert [m.frame for m in items] == probs.argmax(axis=0).tolist()
        picture = cv2.imdecode(np.frombuffer(items[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert picture.shape == (THUMB_SIZE, THUMB_SIZE, 3)
