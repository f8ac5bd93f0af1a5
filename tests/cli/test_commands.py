"""Integration tests: the real `fervideo analyze`, `eval` and `models` commands, real mediapipe and model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import fervideo
from fervideo.engine.models import DEFAULT_MODEL
from tests.conftest import SAMPLE
from tests.helpers import check_probabilities, frames_with_face, read_csv, read_json, run, video_shape

pytestmark = pytest.mark.integration


def test_sample_through_the_installed_command(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fervideo", "analyze", str(SAMPLE), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(tmp_path / "demo.csv")
    assert [int(r["frame"]) for r in rows if not r["face_id"]] + sorted(frames_with_face(rows)) != []
    assert sorted({int(r["frame"]) for r in rows}) == list(range(150))
    faces = frames_with_face(rows)
    assert set(range(0, 55)) <= faces  # the portrait, zooming in
    assert not faces & set(range(80, 95))  # the camera is on the empty wall
    assert set(range(115, 150)) <= faces  # and back on her face
    check_probabilities(rows)
    assert video_shape(tmp_path / "demo.annotated.mp4") == (150, 640, 360)
    summary = read_json(tmp_path / "demo.json")
    assert summary["counts"]["frames_analysed"] == 150
    assert summary["model"]["arch"] == DEFAULT_MODEL and len(summary["model"]["sha256"]) == 64
    assert "demo.annotated.mp4" in proc.stderr  # the closing lines say where the outputs are


def test_single_face_video(tmp_path, capsys, media):
    code, _ = run(capsys, "analyze", str(media("single_face.mp4")), "-o", str(tmp_path))
    assert code == 0
    rows = read_csv(tmp_path / "single_face.csv")
    assert sorted({int(r["frame"]) for r in rows}) == list(range(72))
    assert len(frames_with_face(rows)) >= 0.95 * 72
    assert {r["face_id"] for r in rows if r["face_id"]} == {"1"}  # one person, one id throughout
    check_probabilities(rows)
    assert video_shape(tmp_path / "single_face.annotated.mp4") == (72, 640, 360)
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and abs(times[30] - 1.0) < 0.01  # 30 fps
    summary = read_json(tmp_path / "single_face.json")
    assert summary["input"]["width"] == 640 and summary["input"]["frames_read"] == 72
    assert len(summary["tracks"]) == 1 and summary["tracks"][0]["frames"] == 72
    assert abs(sum(summary["tracks"][0]["mean_probs"].values()) - 1) < 1e-3


def test_no_face_video(tmp_path, capsys, media):
    code, _ = run(capsys, "analyze", str(media("no_face.mp4")), "-o", str(tmp_path), "--no-video")
    assert code == 0
    rows = read_csv(tmp_path / "no_face.csv")
    frames = {int(r["frame"]) for r in rows}
    assert len(frames) >= 95
    assert len(frames_with_face(rows)) <= 0.05 * len(frames)
    assert not (tmp_path / "no_face.annotated.mp4").exists()


def test_face_that_leaves(tmp_path, capsys, media):
    code, _ = run(capsys, "analyze", str(media("face_noface.mov")), "-o", str(tmp_path))
    assert code == 0
    rows = read_csv(tmp_path / "face_noface.csv")
    faces = frames_with_face(rows)
    assert sorted({int(r["frame"]) for r in rows}) == list(range(169))
    assert set(range(0, 60)) <= faces  # present at first
    assert not faces & set(range(100, 169))  # then gone, with empty rows that keep the timeline whole
    assert video_shape(tmp_path / "face_noface.annotated.mp4") == (169, 960, 540)


def test_five_faces_in_a_photo(tmp_path, capsys, media):
    code, _ = run(capsys, "analyze", str(media("multi_face.jpg")), "-o", str(tmp_path))
    assert code == 0
    rows = read_csv(tmp_path / "multi_face.csv")
    assert len(rows) == 5 and sorted(int(r["face_id"]) for r in rows) == [1, 2, 3, 4, 5]
    check_probabilities(rows)
    annotated = cv2.imread(str(tmp_path / "multi_face.annotated.jpg"))
    assert annotated.shape == (667, 1000, 3)


def test_sampling_keeps_source_frame_numbers(tmp_path, capsys, media):
    code, _ = run(
        capsys,
        "analyze",
        str(media("single_face.mp4")),
        "-o",
        str(tmp_path),
        "--every",
        "5",
        "--start",
        "0.5",
        "--end",
        "2.0",
    )
    assert code == 0
    frames = [int(r["frame"]) for r in read_csv(tmp_path / "single_face.csv")]
    assert frames == list(range(15, 60, 5))
    # every source frame of the range is in the video; unsampled ones carry the last boxes forward
    assert video_shape(tmp_path / "single_face.annotated.mp4") == (45, 640, 360)


def test_fps_sampling(tmp_path, capsys, media):
    code, _ = run(capsys, "analyze", str(media("single_face.mp4")), "-o", str(tmp_path), "--fps", "5", "--no-video")
    assert code == 0
    frames = [int(r["frame"]) for r in read_csv(tmp_path / "single_face.csv")]
    assert frames == list(range(0, 72, 6))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.mp4", None, "no such file"),
        ("empty.mp4", b"", "empty"),
        ("notes.mp4", b"this is not a video\n" * 50, "not a readable video"),
        ("noise.mov", np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes(), "not a readable"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "not a readable image"),
    ],
)
def test_bad_input_is_one_line_and_no_output(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    code, err = run(capsys, "analyze", str(path), "-o", str(out))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0] and name in lines[0]
    assert not out.exists()  # not even a temporary file is left, nor the folder the run would have made


def test_one_bad_input_does_not_stop_the_others(tmp_path, capsys, media):
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    code, err = run(capsys, "analyze", str(bad), str(media("single_face.jpg")), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "bad.mp4" in err
    assert (tmp_path / "out" / "single_face.json").is_file()
    assert not (tmp_path / "out" / "bad.csv").exists()


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(blocker / "out"))
    assert code == 1
    assert err.strip().startswith("error: cannot write to output folder") and len(err.strip().splitlines()) == 1


def test_failed_run_keeps_the_previous_result(tmp_path, capsys, media):
    """Outputs are replaced only by complete ones: a later failure leaves the earlier result intact."""
    image = tmp_path / "face.jpg"
    image.write_bytes(media("single_face.jpg").read_bytes())
    assert run(capsys, "analyze", str(image), "-o", str(tmp_path / "out"))[0] == 0
    before = (tmp_path / "out" / "face.csv").read_bytes()
    image.write_bytes(b"corrupted later")
    assert run(capsys, "analyze", str(image), "-o", str(tmp_path / "out"))[0] == 1
    assert (tmp_path / "out" / "face.csv").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "face.annotated.jpg",
        "face.csv",
        "face.episodes.csv",
        "face.json",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["--every", "0"],
        ["--start", "3", "--end", "1"],
        ["--start", "-1"],
        ["--fps", "0"],
        ["--batch-size", "0"],
        ["--min-face-score", "1.5"],
        ["--smooth", "-1"],
        ["--full-range-every", "0"],
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, argv):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), *argv)
    assert code == 2
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_unknown_model(tmp_path, capsys):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--model", "resnet9000")
    assert code == 1
    assert "unknown model 'resnet9000'" in err and "cnn" in err


def test_same_output_names_are_refused(tmp_path, capsys):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "clip.mp4").write_bytes(SAMPLE.read_bytes())
    code, err = run(
        capsys,
        "analyze",
        str(tmp_path / "a" / "clip.mp4"),
        str(tmp_path / "b" / "clip.mp4"),
        "-o",
        str(tmp_path / "out"),
    )
    assert code == 2 and "would both write" in err


def test_quiet_prints_nothing(tmp_path, capsys, media):
    code, err = run(capsys, "analyze", str(media("single_face.jpg")), "-o", str(tmp_path), "--quiet")
    assert code == 0 and err == ""


def test_outputs_land_under_final_names_only(tmp_path, capsys, media):
    run(capsys, "analyze", str(media("single_face.mp4")), "-o", str(tmp_path))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["single_face.annotated.mp4", "single_face.csv", "single_face.episodes.csv", "single_face.json"]


def test_python_api_yields_every_frame(media):

    results = list(fervideo.analyze_video(media("single_face.mp4"), batch_size=16))
    assert [r.index for r in results] == list(range(72))
    assert all(r.analysed and len(r.faces) == 1 for r in results)
    assert all(abs(r.faces.probs.sum() - 1) < 1e-4 for r in results)


def test_image_with_no_face(tmp_path, capsys):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 127, np.uint8))
    code, _ = run(capsys, "analyze", str(blank), "-o", str(tmp_path / "out"))
    assert code == 0
    rows = read_csv(tmp_path / "out" / "wall.csv")
    assert len(rows) == 1 and rows[0]["frame"] == "0" and rows[0]["face_id"] == ""
    assert Path(tmp_path / "out" / "wall.annotated.png").is_file()


def test_tta_is_recorded_in_the_summary(tmp_path, capsys, media):
    code, _ = run(capsys, "analyze", str(media("single_face.jpg")), "-o", str(tmp_path), "--tta", "--quiet")
    assert code == 0
    check_probabilities(read_csv(tmp_path / "single_face.csv"))
    assert read_json(tmp_path / "single_face.json")["model"]["tta"] is True
