"""Defects a hostile user found (issue 14) in what runs write: the group commit, reports, sound, rotation."""

from __future__ import annotations

import shutil

import pytest

from fervideo.cli import main
from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


def test_sound_longer_than_the_picture_is_cut_with_it(tmp_path, capsys):
    import subprocess

    from fervideo.media import ffmpeg_exe, probe

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

    import fervideo.atomic as atomic

    out = tmp_path / "out"
    assert run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "10")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.replace

    def stuck(src, dst):  # the old annotated video cannot be moved (chattr +i, say)
        if Path(src).name == "demo.annotated.mp4":
            raise PermissionError(1, "Operation not permitted")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", stuck)
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "3")
    assert code == 1 and "Operation not permitted" in one_error_line(err)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old set, whole; no temporary left
    monkeypatch.undo()
    assert run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "3", "--no-video")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["demo.csv", "demo.episodes.csv", "demo.json"]  # no old video


def ffmpeg(*args: str) -> None:
    import subprocess

    from fervideo.media import ffmpeg_exe

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
