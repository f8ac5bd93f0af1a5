"""Defects a hostile user found (issue 14): each reproduced through the command line, as reported."""

from __future__ import annotations

import shutil

import pytest

from fervideo.cli import main
from fervideo.cli.common import printable, shown
from tests.conftest import SAMPLE
from tests.test_cli import run


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
    with pytest.raises(UsageError, match="which is the input"):
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
