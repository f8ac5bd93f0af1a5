"""Command-line arguments a hostile user tried: extreme sampling values, zero workers, odd names."""

from __future__ import annotations

import shutil

import pytest

from fervideo.cli import main
from fervideo.cli.common import printable
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
    assert printable("x[/].mp4") == "x[/].mp4"  # no markup is parsed: brackets need no escaping


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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--min-episode", "-1"], "argument --min-episode: '-1'"),
        (["--min-episode", "nan"], "argument --min-episode: 'nan'"),
        (["--smooth", "inf"], "argument --smooth: 'inf'"),
        (["--smooth", "nan"], "argument --smooth: 'nan'"),
        (["--smooth", "-0.5"], "argument --smooth: '-0.5'"),
    ],
)
def test_bad_seconds_are_one_usage_error_at_parse_time_however_many_inputs(tmp_path, capsys, argv, message):
    clips = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for clip in clips:
        shutil.copy(SAMPLE, clip)
    code, err = run(capsys, "analyze", *map(str, clips), "-o", str(tmp_path / "out"), "--no-video", *argv)
    assert code == 2 and message in one_error_line(err)  # once, not once per input
    assert not (tmp_path / "out").exists()  # refused before anything ran


@pytest.mark.parametrize("command", ["batch", "live"])
def test_non_finite_smoothing_is_refused_by_every_command(tmp_path, capsys, command):
    live = command == "live"
    inputs = ["--camera", str(SAMPLE), "--no-window"] if live else [str(SAMPLE.parent), "-o", str(tmp_path)]
    code, err = run(capsys, command, *inputs, "--smooth", "inf")
    assert code == 2 and "argument --smooth: 'inf'" in one_error_line(err)


def test_bf16_on_onnx_runtime_says_it_needs_torch(tmp_path, capsys):
    argv = ["--precision", "bf16", "--runtime", "onnx"]
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path / "out"), "--no-video", *argv)
    line = one_error_line(err)
    assert code == 2 and "bf16" in line and "--runtime torch" in line and "float32" not in line, line


def test_live_record_naming_a_directory_says_so(tmp_path, capsys):
    code, err = run(capsys, "live", "--camera", str(SAMPLE), "--no-window", "--record", str(tmp_path))
    line = one_error_line(err)
    assert code == 2 and f"--record {tmp_path} is a directory" in line and "OpenCV" not in line, line
    assert list(tmp_path.iterdir()) == []


def special_files(tmp_path):
    """A FIFO, a link to /dev/null and, as root, a device node: none of them a regular file."""
    import os
    import stat

    fifo, link, device = tmp_path / "fifo.csv", tmp_path / "link.csv", tmp_path / "dev" / "null"
    os.mkfifo(fifo)
    link.symlink_to("/dev/null")
    found = [(fifo, "a FIFO"), (link, "a character device")]
    if os.geteuid() == 0:
        device.parent.mkdir()
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        found.append((device, "a character device"))
    return found


def test_live_never_replaces_a_device_or_fifo_with_a_file(tmp_path, capsys, monkeypatch):
    import os

    monkeypatch.chdir(tmp_path)
    for path, kind in special_files(tmp_path):
        before = os.lstat(path)
        relative = str(path.relative_to(tmp_path))  # `--csv dev/null`, as the user typed it
        code, err = run(capsys, "live", "--camera", str(SAMPLE), "--no-window", "--max-frames", "3", "--csv", relative)
        assert code == 2 and f"--csv {relative} is {kind}" in one_error_line(err), err
        after = os.lstat(path)
        assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    assert not [p for p in tmp_path.rglob(".*partial*")]
