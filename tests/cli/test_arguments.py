"""Command-line arguments a hostile user tried: extreme sampling values, zero workers, odd names."""

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

