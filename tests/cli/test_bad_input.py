"""Every way in with bad or odd input, through the real `fervideo analyze` in-process.

Each case ends in one `error:` line and a non-zero exit, or in a correct result: never a traceback, never a
hang (SIGALRM per test), never native library noise on stderr (capfd sees file descriptor 2), never an
output under its final name that is incomplete. Cases already in test_commands.py are not repeated here.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import fervideo.engine.source
from fervideo.cli import main
from tests.faults import (  # noqa: F401 (no_hang: a fixture)
    CHECKPOINTS,
    Cv2WithoutRate,
    assert_one_error,
    avi_without_frame_count,
    moov_first,
    names,
    no_hang,
    raw_mjpeg,
    run,
    unreadable,
    write_video,
)
from tests.helpers import check_probabilities, frames_with_face, read_csv, read_json, video_shape

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_hang")]

# --- nothing to decode, or damaged but partly readable ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ftyp32.mp4", "not a readable video"),
        ("ftyp100.mp4", "not a readable video"),
        ("half.mp4", "not a readable video"),
        ("half.png", "not a readable image"),
        ("head.jpg", "not a readable image"),
        ("folder.mp4", "is a folder"),
        ("fifo.mp4", "not a regular file"),
    ],
)
def test_unreadable_input(tmp_path, capfd, media, name, message):
    path = unreadable(name, tmp_path, media)
    code, err = run(capfd, "analyze", path, "-o", tmp_path / "out")
    assert code == 1
    assert_one_error(err, str(path), message)
    assert names(tmp_path / "out") == []


def test_error_is_exactly_one_line_without_quiet(tmp_path, capfd, media):
    path = unreadable("ftyp32.mp4", tmp_path, media)
    code, err = run(capfd, "analyze", path, "-o", tmp_path / "out")
    assert code == 1 and err.count("\n") == 1 and err.startswith("error:"), repr(err)


def test_truncated_mp4_is_analysed_up_to_the_cut(tmp_path, capfd, media):
    streaming = moov_first(media("single_face.mp4").read_bytes())  # index first, so a cut file still plays
    path = tmp_path / "cut.mp4"
    path.write_bytes(streaming[: len(streaming) // 2])
    code, err = run(capfd, "analyze", path, "-o", tmp_path)
    assert code == 0, err
    summary = read_json(tmp_path / "cut.json")
    read = summary["input"]["frames_read"]
    assert summary["input"]["frames"] == 72 and 10 < read < 60
    (warning,) = summary["warnings"]
    assert f"decoded {read} of the 72 frames" in warning and "truncated" in warning
    assert "warning:" in err and "truncated" in err
    assert "[mov" not in err and "[mpeg4" not in err  # FFmpeg's own complaints stay off the terminal
    rows = read_csv(tmp_path / "cut.csv")
    assert sorted({int(r["frame"]) for r in rows}) == list(range(read))
    assert len(frames_with_face(rows)) >= 0.9 * read
    check_probabilities(rows)
    assert video_shape(tmp_path / "cut.annotated.mp4")[0] == read


def test_truncated_jpeg_is_analysed_with_a_warning(tmp_path, capfd, media):
    data = media("single_face.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: int(len(data) * 0.8)])
    code, err = run(capfd, "analyze", path, "-o", tmp_path)
    assert code == 0, err
    (warning,) = read_json(tmp_path / "cut.json")["warnings"]
    assert "truncated" in warning
    assert "Premature end of JPEG file" not in err  # libjpeg's own line is silenced; ours says it
    assert "warning:" in err and "truncated" in err
    assert len(read_csv(tmp_path / "cut.csv")) >= 1


# --- checkpoints given to --model: never unpickled, always one line ---------------------------------


@pytest.mark.parametrize("write", list(CHECKPOINTS), ids=[w.__name__ for w in CHECKPOINTS])
def test_bad_checkpoint(tmp_path, capfd, media, write):
    planted, checkpoint = tmp_path / "planted.txt", tmp_path / "model.pt"
    write(checkpoint, planted)
    code, err = run(capfd, "analyze", media("single_face.jpg"), "-o", tmp_path / "out", "--model", checkpoint)
    assert code == 1
    assert_one_error(err, CHECKPOINTS[write])
    assert "Warning" not in err  # torch's warning about foreign pickle protocols stays inside
    assert not planted.exists()  # weights_only loading never ran the pickle's code
    assert names(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("model", "message"), [("{tmp}", "is a folder"), ("{tmp}/weights/missing.ckpt", "no such checkpoint file")]
)
def test_model_path_that_is_not_a_checkpoint_file(tmp_path, capfd, model, message):
    code, err = run(capfd, "analyze", tmp_path / "any.mp4", "-o", tmp_path, "--model", model.format(tmp=tmp_path))
    assert code == 1
    assert_one_error(err, message)


# --- options that make no sense, or a range with nothing in it --------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--every", "-3"],
        ["--end", "-1"],
        ["--start", "2", "--end", "2"],
        ["--fps", "-1"],
        ["--start", "nan"],
        ["--start", "inf"],
        ["--end", "inf"],
        ["--end", "nan"],
    ],
)
def test_more_usage_errors(tmp_path, capfd, media, argv):
    code, err = run(capfd, "analyze", media("single_face.jpg"), "-o", tmp_path / "out", *argv)
    assert code == 2
    assert_one_error(err)
    assert "internal error" not in err
    assert names(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--every", "abc"], "invalid int value: 'abc'"),
        (["--every", "1.5"], "invalid int value: '1.5'"),
        (["--fps", "fast"], "invalid float value: 'fast'"),
        (["--every", "2", "--fps", "5"], "not allowed with argument"),
        (["--detector", "best"], "invalid choice: 'best'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_unparsable_options_are_one_line(tmp_path, capfd, argv, message):
    capfd.readouterr()
    assert main(["analyze", str(tmp_path / "x.mp4"), "-o", str(tmp_path / "out"), *argv]) == 2
    assert_one_error(capfd.readouterr().err, message, "--help")
    assert names(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("name", "argv", "message"),
    [
        ("single_face.mp4", ["--start", "5"], "no frame in the range from --start 5 s"),
        ("single_face.mp4", ["--start", "5", "--no-video"], "no frame in the range from --start 5 s"),
        ("single_face.jpg", ["--start", "1"], "a photo is one frame at 0 s"),
    ],
)
def test_range_that_holds_no_frame(tmp_path, capfd, media, name, argv, message):
    code, err = run(capfd, "analyze", media(name), "-o", tmp_path / "out", *argv)
    assert code == 1
    assert_one_error(err, message)
    assert names(tmp_path / "out") == []


def test_output_folder_that_is_a_file(tmp_path, capfd, media):
    target = tmp_path / "results"
    target.write_text("a file, not a folder")
    code, err = run(capfd, "analyze", media("single_face.jpg"), "-o", target)
    assert code == 1
    assert_one_error(err, "cannot write to output folder")
    assert target.read_text() == "a file, not a folder"


# --- headers that leave things out -----------------------------------------------------------------


@pytest.mark.parametrize(("make", "name"), [(raw_mjpeg, "clip.mjpeg"), (avi_without_frame_count, "clip.avi")])
def test_video_without_frame_count(tmp_path, capfd, make, name):
    path = make(tmp_path / name)
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) <= 0  # the premise: OpenCV knows no count
    capture.release()
    code, err = run(capfd, "analyze", path, "-o", tmp_path / "out", "--quiet")
    assert code == 0, err
    summary = read_json(tmp_path / "out" / "clip.json")
    assert summary["input"]["frames"] == 0 and summary["input"]["frames_read"] == 8
    assert summary["warnings"] == []  # an unknown count is no sign of truncation
    assert [int(r["frame"]) for r in read_csv(tmp_path / "out" / "clip.csv")] == list(range(8))
    assert video_shape(tmp_path / "out" / "clip.annotated.mp4") == (8, 64, 48)


def test_video_with_0_fps(tmp_path, capfd, monkeypatch):
    # OpenCV reports 25 fps for every header that can be written here, so the report itself is patched
    monkeypatch.setattr(fervideo.engine.source, "cv2", Cv2WithoutRate())
    path = write_video(tmp_path / "clip.mp4", frames=6, fps=10.0)
    code, err = run(capfd, "analyze", path, "-o", tmp_path / "out")
    assert code == 0, err
    assert "warning:" in err and "no usable frame rate; assuming 25 fps" in err
    summary = read_json(tmp_path / "out" / "clip.json")
    assert summary["input"]["fps"] == 25.0 and summary["input"]["frames_read"] == 6
    times = [float(r["time_s"]) for r in read_csv(tmp_path / "out" / "clip.csv")]
    assert times == sorted(times) and len(times) == 6  # the container's timestamps still order the frames
    # written at the assumed 25 fps, the 0.1 s steps of the timestamps repeat each frame: 0.5 s of picture
    assert video_shape(tmp_path / "out" / "clip.annotated.mp4")[0] == round(0.5 * 25) + 1


# --- odd frames: huge, tiny, grey, deep, transparent ----------------------------------------------


def test_4k_photo_and_video(tmp_path, capfd, media):
    face = cv2.resize(cv2.imread(str(media("single_face.jpg"))), (3840, 2160))
    photo, video = tmp_path / "photo.jpg", tmp_path / "video.mp4"
    cv2.imwrite(str(photo), face)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (3840, 2160))
    for _ in range(3):
        writer.write(face)
    writer.release()
    code, err = run(capfd, "analyze", photo, video, "-o", tmp_path / "out", "--quiet")
    assert code == 0, err
    out = tmp_path / "out"
    for stem, frames in (("photo", 1), ("video", 3)):
        rows = read_csv(out / f"{stem}.csv")
        assert len(frames_with_face(rows)) == frames and all(int(r["w"]) > 500 for r in rows)  # the big face
    assert cv2.imread(str(out / "photo.annotated.jpg")).shape == (2160, 3840, 3)
    assert video_shape(out / "video.annotated.mp4") == (3, 3840, 2160)


@pytest.mark.parametrize("no_video", [False, True])
def test_one_pixel_wide_video(tmp_path, capfd, no_video):
    path = write_video(tmp_path / "line.avi", frames=5, size=(1, 64), fourcc="MJPG")
    code, err = run(capfd, "analyze", path, "-o", tmp_path / "out", "--quiet", *(["--no-video"] if no_video else []))
    out = tmp_path / "out"
    if code != 0:  # an encoder may refuse 1-pixel frames: then one line, and no output at all
        assert not no_video
        assert_one_error(err, "line.annotated.mp4")
        assert names(out) == []
        return
    assert err == ""
    rows = read_csv(out / "line.csv")
    assert [int(r["frame"]) for r in rows] == list(range(5)) and not frames_with_face(rows)
    if not no_video:
        frames, width, height = video_shape(out / "line.annotated.mp4")
        assert frames == 5 and height == 64 and width in (1, 2)  # H.264 pads an odd side by one pixel


def test_one_pixel_wide_photo(tmp_path, capfd):
    path = tmp_path / "line.png"
    cv2.imwrite(str(path), np.full((64, 1, 3), 100, np.uint8))
    code, err = run(capfd, "analyze", path, "-o", tmp_path / "out", "--quiet")
    assert code == 0, err
    assert cv2.imread(str(tmp_path / "out" / "line.annotated.png")).shape == (64, 1, 3)


def test_grey_16_bit_and_alpha_photos_read_like_the_8_bit_one(tmp_path, capfd, media):
    image = cv2.imread(str(media("single_face.jpg")))
    variants = {
        "reference.png": image,
        "grey.png": cv2.cvtColor(image, cv2.COLOR_BGR2GRAY),
        "deep.png": image.astype(np.uint16) * 257,  # 16-bit, the same picture
        "deep_tiff.tif": image.astype(np.uint16) * 257,
        "alpha.png": np.dstack([image, np.full(image.shape[:2], 128, np.uint8)]),
    }
    for name, pixels in variants.items():
        assert cv2.imwrite(str(tmp_path / name), pixels)
    code, err = run(capfd, "analyze", *(tmp_path / name for name in variants), "-o", tmp_path / "out", "--quiet")
    assert code == 0, err
    expected = read_csv(tmp_path / "out" / "reference.csv")
    assert len(expected) == 1 and expected[0]["face_id"] == "1"
    for stem in (Path(name).stem for name in variants):
        rows = read_csv(tmp_path / "out" / f"{stem}.csv")
        assert len(rows) == 1 and all(abs(int(rows[0][k]) - int(expected[0][k])) <= 3 for k in "xywh"), stem
        if stem != "grey":  # 16-bit and alpha decode to exactly the 8-bit picture
            assert rows == expected, stem
        annotated = next((tmp_path / "out").glob(f"{stem}.annotated.*"))
        assert cv2.imread(str(annotated)).shape == image.shape
