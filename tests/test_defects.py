"""Defects a hostile user found (issue 14): each reproduced through the command line, as reported."""

from __future__ import annotations

import shutil

import pytest

from fervideo.cli import main
from fervideo.cli.common import printable, shown
from tests.conftest import SAMPLE
from tests.helpers import run


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


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


def test_batch_into_its_own_folder_finds_the_inputs_and_not_its_outputs(tmp_path, capsys):
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(SAMPLE, tmp_path / name)
    code, err = run(capsys, "batch", str(tmp_path), "-o", str(tmp_path), "--every", "15", "--workers", "1")
    assert code == 0 and "2 ok, 0 skipped, 0 failed" in err, err
    assert (tmp_path / "a.annotated.mp4").is_file() and (tmp_path / "b.json").is_file()
    code, err = run(capsys, "batch", str(tmp_path), "-o", str(tmp_path), "--every", "15", "--glob", "*")
    assert code == 0 and "0 ok, 2 skipped, 0 failed" in err, err  # outputs and the index are not inputs


def test_batch_inputs_with_one_stem_each_get_their_own_outputs(tmp_path, capsys):
    from tests.helpers import read_json

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "clip.mp4")
    shutil.copy(SAMPLE, folder / "clip.mov")
    shutil.copy(SAMPLE, folder / "other.mp4")
    out = tmp_path / "out"
    argv = ["batch", str(folder), "-o", str(out), "--every", "15", "--no-video", "--workers", "1"]
    code, err = run(capsys, *argv)
    assert code == 0 and "3 ok" in err, err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "clip.mov.csv",
        "clip.mov.json",
        "clip.mp4.csv",
        "clip.mp4.json",
        "index.csv",
        "other.csv",
        "other.json",
    ]
    assert read_json(out / "clip.mov.json")["input"]["path"].endswith("clip.mov")
    code, err = run(capsys, *argv)
    assert code == 0 and "0 ok, 3 skipped" in err, err  # a rerun finds each input's own outputs


def test_a_batch_rerun_with_other_options_redoes_the_inputs_and_force_redoes_all(tmp_path, capsys):
    from tests.helpers import read_json

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "clip.mp4")
    out = tmp_path / "out"
    base = ["batch", str(folder), "-o", str(out), "--no-video", "--workers", "1"]
    assert run(capsys, *base, "--every", "15")[0] == 0
    code, err = run(capsys, *base, "--every", "15", "--batch-size", "8")  # nothing that changes a result
    assert code == 0 and "0 ok, 1 skipped" in err, err
    code, err = run(capsys, *base, "--every", "30")
    assert code == 0 and "1 ok, 0 skipped" in err, err
    assert read_json(out / "clip.json")["counts"]["frames_analysed"] == 5  # the results of the new options
    code, err = run(capsys, *base, "--every", "30", "--force")
    assert code == 0 and "1 ok, 0 skipped" in err, err


def test_names_up_to_the_file_system_limit_are_analysed(tmp_path, capsys):
    from fervideo.sinks import NAME_MAX, partial_name

    stem = "é" * 118  # 236 bytes: with ".annotated.mp4" the output is 250, under 255; temporary names shrink
    clip = tmp_path / f"{stem}.mp4"
    shutil.copy(SAMPLE, clip)
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path / "out"), "--every", "30")
    assert code == 0, err
    assert (tmp_path / "out" / f"{stem}.annotated.mp4").is_file() and (tmp_path / "out" / f"{stem}.json").is_file()
    name = partial_name(f"{stem}.annotated.mp4")
    assert len(name.encode()) <= NAME_MAX and name.startswith(".é") and name.endswith(".partial.mp4")


def test_batch_start_leaves_the_temporary_files_of_a_running_analyze(tmp_path, capsys):
    import os

    out = tmp_path / "out"
    out.mkdir()
    mine = out / f".clip.{os.getpid()}-0123abcd.partial.csv"  # what this very process is still writing
    mine.write_text("in progress")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "other.mp4")
    assert run(capsys, "batch", str(folder), "-o", str(out), "--no-video", "--every", "30", "--workers", "1")[0] == 0
    assert mine.read_text() == "in progress"


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/task").is_dir(), reason="finds workers in /proc")
@pytest.mark.parametrize(("retries", "code", "ok"), [("1", 0, 2), ("0", 1, 1)])
def test_a_worker_killed_mid_batch_is_retried_or_recorded(tmp_path, retries, code, ok):
    import csv
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.conftest import ROOT

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(SAMPLE, folder / name)
    argv = [sys.executable, "-m", "fervideo", "batch", str(folder), "-o", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen([*argv, "--retries", retries], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(".partial" in p.name for p in out.iterdir())):  # a worker is writing
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    tasks = (Path("/proc") / str(proc.pid) / "task").glob("*")
    kids = [int(c) for task in tasks for c in (task / "children").read_text().split()]
    workers = [c for c in kids if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)  # as the OOM killer would
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == code and "Traceback" not in err and "internal error" not in err, err
    with open(out / "index.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(Path(r["input"]).name for r in rows) == ["a.mp4", "b.mp4"]
    assert sum(r["status"] == "ok" for r in rows) == ok
    assert all("worker process died" in r["error"] for r in rows if r["status"] == "failed")


def test_sound_longer_than_the_picture_is_cut_with_it(tmp_path, capsys):
    import subprocess

    from fervideo.encoder import ffmpeg_exe, probe

    clip = tmp_path / "long_sound.mp4"
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=12"]
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(SAMPLE),
            *tone,
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            str(clip),
        ],
        check=True,
        timeout=120,
    )
    assert probe(clip).duration > 11  # the container runs as long as its sound
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path / "out"), "--every", "10")
    assert code == 0, err
    written = probe(tmp_path / "out" / "long_sound.annotated.mp4")
    assert written.audio_codec is not None and written.duration < 6.5  # the picture's 6 s, not 12


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """An analysed sample: its CSV and JSON in a folder of their own."""
    out = tmp_path_factory.mktemp("result")
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--no-video", "--every", "5", "--quiet"]) == 0
    return out


def copy_result(result, tmp_path):
    for name in ("demo.csv", "demo.json"):
        shutil.copy(result / name, tmp_path / name)
    return tmp_path / "demo.csv", tmp_path / "demo.json"


def test_report_of_a_hand_edited_json_and_giant_box(result, tmp_path, capsys):
    import json

    csv_path, json_path = copy_result(result, tmp_path)
    summary = json.loads(json_path.read_text())
    summary["tracks"] = [{"id": 1}]  # fields deleted by hand
    json_path.write_text(json.dumps(summary))
    lines = csv_path.read_text().splitlines()
    cells = lines[1].split(",")
    header = lines[0].split(",")
    if cells[header.index("face_id")]:
        cells[header.index("w")] = cells[header.index("h")] = "100000000"
    csv_path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    code, err = run(capsys, "report", str(csv_path))
    assert code == 0, err
    page = (tmp_path / "demo.report.html").read_text()
    assert "Track #1" in page and (tmp_path / "demo.timeline.png").is_file()


def test_report_reads_a_csv_a_spreadsheet_saved_and_says_what_is_wrong_with_others(result, tmp_path, capsys):
    csv_path, _ = copy_result(result, tmp_path)
    text = csv_path.read_text()
    csv_path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())  # byte-order mark and CRLF
    code, err = run(capsys, "report", str(csv_path))
    assert code == 0, err
    csv_path.write_text(text.replace("face_id", "face", 1))
    code, err = run(capsys, "report", str(csv_path))
    assert code == 1 and "column 3 is 'face' where fervideo writes 'face_id'" in one_error_line(err)


def test_report_on_a_full_disk_is_one_line_and_leaves_no_plot_without_its_page(result, tmp_path, capsys, monkeypatch):
    import errno

    import fervideo.report as report_mod

    csv_path, _ = copy_result(result, tmp_path)
    real = report_mod.write_bytes

    def full(path, data):
        if path.suffix == ".html":  # the plot fits, the page does not
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(report_mod, "write_bytes", full)
    code, err = run(capsys, "report", str(csv_path))
    assert code == 1 and "could not write the report: No space left on device" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.csv", "demo.json"]


def test_outputs_are_committed_as_one_group_or_not_at_all(tmp_path, capsys, monkeypatch):
    import os
    from pathlib import Path

    import fervideo.sinks as sinks

    out = tmp_path / "out"
    assert run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "10")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.replace

    def stuck(src, dst):  # the old annotated video cannot be moved (chattr +i, say)
        if Path(src).name == "demo.annotated.mp4":
            raise PermissionError(1, "Operation not permitted")
        real(src, dst)

    monkeypatch.setattr(sinks.os, "replace", stuck)
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "3")
    assert code == 1 and "Operation not permitted" in one_error_line(err)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old set, whole; no temporary left
    monkeypatch.undo()
    assert run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "3", "--no-video")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["demo.csv", "demo.json"]  # no old video beside new results


def ffmpeg(*args: str) -> None:
    import subprocess

    from fervideo.encoder import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=120)


def test_a_phone_video_with_a_display_rotation_is_analysed_upright(tmp_path, capsys):
    from tests.helpers import read_json, video_shape

    rotated = tmp_path / "portrait.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(SAMPLE), "-c", "copy", str(rotated))
    code, err = run(capsys, "analyze", str(rotated), "-o", str(tmp_path / "out"), "--every", "10")
    assert code == 0, err
    summary = read_json(tmp_path / "out" / "portrait.json")
    assert (summary["input"]["width"], summary["input"]["height"]) == (360, 640)
    assert video_shape(tmp_path / "out" / "portrait.annotated.mp4")[1:] == (360, 640)
    assert summary["counts"]["frames_with_face"] > 0  # the faces are found upright


def test_analyze_dev_stdin_redirected_from_a_file(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.helpers import read_json

    with open(SAMPLE, "rb") as clip:
        done = subprocess.run(
            [sys.executable, "-m", "fervideo", "analyze", "/dev/stdin", "-o", str(tmp_path), "--every", "10"],
            stdin=clip,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert read_json(tmp_path / "stdin.json")["counts"]["frames_analysed"] == 15
    assert (tmp_path / "stdin.annotated.mp4").stat().st_size > 0


def test_live_refuses_a_fifo_instead_of_hanging(tmp_path, capsys):
    import os

    fifo = tmp_path / "camera"
    os.mkfifo(fifo)
    code, err = run(capsys, "live", "--camera", str(fifo), "--no-window", "--max-frames", "1")
    assert code == 1 and "is a pipe or socket" in one_error_line(err)
