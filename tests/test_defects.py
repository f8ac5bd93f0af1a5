"""Defects a hostile user found (issue 14): each reproduced through the command line, as reported."""

from __future__ import annotations

import shutil

import pytest

from fervideo.cli import main
from fervideo.cli.common import printable, shown
from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fps", "inf"], "--fps must be above 0 and at most 1000"),
        (["--fps", "1e308"], "--fps must be above 0 and at most 1000"),
        (["--start", "1e308"], "at most 1e+09 seconds"),
        (["--end", "1e308"], "at most 1e+09 seconds"),
    ],
)
def test_extreme_sampling_values_are_usage_errors(tmp_path, capsys, argv, message):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path / "out"), "--no-video", *argv)
    assert code == 2 and message in one_error_line(err)


def test_batch_with_zero_workers_is_refused(tmp_path, capsys):
    code, err = run(capsys, "batch", str(SAMPLE.parent), "-o", str(tmp_path), "--workers", "0")
    assert code == 2 and "--workers must be 1 or more" in one_error_line(err)


@pytest.mark.parametrize("name", ["v.json", "w.csv"])
def test_an_input_is_never_overwritten_by_its_own_output(tmp_path, capsys, name):
    clip = tmp_path / name
    shutil.copy(SAMPLE, clip)
    before = clip.read_bytes()
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path), "--no-video")
    assert code == 2 and "which is the input" in one_error_line(err)
    assert clip.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_the_library_refuses_it_too(tmp_path):
    from fervideo.errors import UsageError
    from fervideo.job import analyze_file

    clip = tmp_path / "v.json"
    shutil.copy(SAMPLE, clip)
    with pytest.raises(UsageError, match="would be overwritten by its own outputs"):
        analyze_file(clip, tmp_path, analyzer=None)  # refused before the analyzer is touched


def test_names_are_printed_as_given_never_read_as_markup(tmp_path, capsys):
    folder = tmp_path / "[draft]"
    folder.mkdir()
    clips = [folder / "clip.mp4", tmp_path / "x[b]y.mp4"]
    for clip in clips:
        shutil.copy(SAMPLE, clip)
    code = main(["analyze", *map(str, clips), "-o", str(tmp_path / "out"), "--no-video", "--every", "10"])
    err = capsys.readouterr().err
    assert code == 0 and f"{folder}/clip.mp4: " in err and "x[b]y.mp4: " in err, err


def test_control_characters_in_names_cannot_reach_the_terminal():
    assert printable("a\x1b[31mred\nb.mp4") == "a\\x1b[31mred\\nb.mp4"
    assert shown("x[/].mp4") == "x\\[/].mp4" and shown("[draft]") == "\\[draft]"


def test_a_frame_of_the_wrong_size_is_refused_even_under_python_O(tmp_path):
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from fervideo.sinks import VideoSink\n"
        "from fervideo.errors import OutputError\n"
        f"sink = VideoSink({str(tmp_path / 'v.mp4')!r}, 10.0, 64, 32)\n"
        "try:\n"
        "    sink.write(np.zeros((48, 64, 3), np.uint8))\n"
        "except OutputError as exc:\n"
        "    print('refused:', exc)\n"
        "sink.discard()\n"
    )
    done = subprocess.run([sys.executable, "-O", "-c", script], capture_output=True, text=True, timeout=60)
    assert "refused: a (48, 64, 3) uint8 frame does not fit a 64x32 BGR video" in done.stdout, done.stderr


def test_distillation_settings_are_checked_before_any_teacher_runs(tmp_path):
    from fervideo.errors import UsageError
    from training.train import parse_args, settings

    for extra in (["--kd-alpha", "1.5"], ["--kd-temperature", "0"]):
        args = parse_args(["--data", str(tmp_path), "--teacher", str(tmp_path / "t.pt"), *extra])
        with pytest.raises(UsageError, match="--kd-alpha .* must be in \\[0, 1\\] and --kd-temperature above 0"):
            settings(args)


@pytest.mark.parametrize(("name", "out"), [("clip1:2.mp4", "run:1"), ("pipe:clip.mp4", "out")])
def test_relative_names_with_a_colon_are_local_files(tmp_path, capsys, monkeypatch, name, out):
    from tests.helpers import read_json, video_shape

    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLE, tmp_path / name)
    code, err = run(capsys, "analyze", name, "-o", out, "--every", "10")
    assert code == 0, err
    stem = name.removesuffix(".mp4")
    summary = read_json(tmp_path / out / f"{stem}.json")
    assert summary["counts"]["frames_analysed"] == 15
    assert video_shape(tmp_path / out / f"{stem}.annotated.mp4")[0] == summary["input"]["frames"]


def test_a_face_in_the_only_analysed_frame_is_kept(tmp_path, capsys, media):
    import cv2

    from fervideo.sinks import VideoSink
    from tests.helpers import read_json

    photo = cv2.imread(str(media("single_face.jpg")))
    one_frame = tmp_path / "one.mp4"
    with VideoSink(one_frame, 25.0, photo.shape[1], photo.shape[0]) as sink:
        sink.write(photo)
    code, err = run(capsys, "analyze", str(one_frame), "-o", str(tmp_path / "a"), "--no-video")
    assert code == 0, err
    assert read_json(tmp_path / "a" / "one.json")["counts"]["frames_with_face"] == 1
    clip = media("single_face.mp4")  # 2.4 s: --fps 0.4 analyses its first frame alone
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path / "b"), "--no-video", "--fps", "0.4")
    counts = read_json(tmp_path / "b" / "single_face.json")["counts"]
    assert code == 0 and counts["frames_analysed"] == 1 and counts["frames_with_face"] == 1 and counts["tracks"] == 1


def test_dense_sampling_still_waits_for_a_second_sighting():
    from fervideo.pipeline import confirmable
    from fervideo.source import Sampling, VideoInfo

    video = VideoInfo("v.mp4", 300, 30.0, 640, 360)
    assert confirmable(video, Sampling()) and confirmable(video, Sampling(every=15))
    assert not confirmable(video, Sampling(every=30)) and not confirmable(video, Sampling(fps=0.4))
    assert not confirmable(VideoInfo("p.jpg", 1, 0.0, 640, 360, is_image=True), Sampling())


def png_header_only(path, width: int, height: int) -> None:
    """A PNG whose header claims width x height; its pixel data is a stub (only the header is ever read)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path, capsys):
    huge, ok = tmp_path / "huge.png", tmp_path / "ok.jpg"
    png_header_only(huge, 40000, 40000)
    shutil.copy(SAMPLE.parent.parent / "docs" / "annotated-frame.jpg", ok)
    code, err = run(capsys, "analyze", str(huge), str(ok), "-o", str(tmp_path / "out"), "--no-video")
    assert code == 1 and "40000x40000 is over fervideo's limit of 50 megapixels" in err
    assert "internal error" not in err and (tmp_path / "out" / "ok.json").is_file()  # the next input still runs


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--record", "{tmp}/a.mp4", "--csv", "{tmp}/a.mp4"], "--record and --csv both name"),
        (["--record", "{sample}"], "is the input; --record and --csv must name other files"),
    ],
)
def test_live_refuses_outputs_that_would_clobber_each_other_or_the_input(tmp_path, capsys, extra, message):
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{sample}", str(SAMPLE)) for a in extra]
    code, err = run(capsys, "live", "--camera", str(SAMPLE), "--no-window", *argv)
    assert code == 2 and message in one_error_line(err)


def test_live_refuses_a_fifo_instead_of_hanging(tmp_path, capsys):
    import os

    fifo = tmp_path / "camera"
    os.mkfifo(fifo)
    code, err = run(capsys, "live", "--camera", str(fifo), "--no-window", "--max-frames", "1")
    assert code == 1 and "is a pipe or socket" in one_error_line(err)
