"""`report` and `export` into an -o folder keep a user's files, a FIFO as the source video does not stop export,
and report refuses a broken JSON as export does.

Before, the two wrote into an -o folder over any file at their names (only the CSV's own folder had a record of
fervideo's files), export --format boris waited a minute on ffmpeg for a FIFO named as the source video, and report
wrote its page for a JSON whose input.fps was 0, -5, "abc" or NaN, or whose input was null.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import assert_one_error, names, run
from tests.helpers import scripted_result

FOLDER_RECORD = ".fervideo-files.json"  # what report and export wrote into an -o folder
MINE = b"mine, not fervideo's\n"
REPORT = ["report"]
EXPORT = ["export", "--format", "eaf,boris"]
WRITES = {
    "report": ["step.report.html", "step.timeline.png"],
    "export": ["step.boris", "step.eaf", "step.face1.tsv", "step.face2.tsv"],
}


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> Path:
    """A scripted run (no models) of the step video, two faces: its video, CSV and JSON."""
    return scripted_result(tmp_path_factory.mktemp("result"))


def command(result: Path, argv: list[str], out: Path | None = None) -> list[object]:
    """report or export of the result's CSV, into out when given."""
    return [argv[0], result / "step.csv", *argv[1:], *(["-o", out] if out is not None else [])]


def contents(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names(folder)}


# --- defect 1: a user's files in an -o folder ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "name"),
    [(REPORT, "step.report.html"), (REPORT, "step.timeline.png"), (EXPORT, "step.eaf"), (EXPORT, "step.face2.tsv")],
)
def test_a_users_file_in_an_o_folder_is_refused_and_kept(result, tmp_path, capfd, argv, name):
    out = tmp_path / "mine"
    out.mkdir()
    (out / name).write_bytes(MINE)
    (out / "notes.txt").write_bytes(MINE)
    code, err = run(capfd, *command(result, argv, out))
    assert code == 1
    assert_one_error(err, f"{out / name} is in the way", "choose another -o folder")
    assert contents(out) == {name: MINE, "notes.txt": MINE}  # byte for byte; no output, record or temporary


@pytest.mark.parametrize("argv", [REPORT, EXPORT], ids=["report", "export"])
def test_a_rerun_into_the_same_o_folder_replaces_what_the_first_wrote(result, tmp_path, capfd, argv):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "notes.txt").write_bytes(MINE)
    assert run(capfd, *command(result, argv, out))[0] == 0
    first = {name: os.stat(out / name).st_ino for name in WRITES[argv[0]]}
    code, err = run(capfd, *command(result, argv, out))
    assert code == 0, err
    assert all(os.stat(out / name).st_ino != inode for name, inode in first.items())  # each one replaced
    assert names(out) == sorted([FOLDER_RECORD, "notes.txt", *WRITES[argv[0]]])
    assert (out / "notes.txt").read_bytes() == MINE


def test_report_and_export_into_one_o_folder_in_turn_and_again(result, tmp_path, capfd):
    out = tmp_path / "out"
    for argv in (REPORT, EXPORT, REPORT, EXPORT):
        code, err = run(capfd, *command(result, argv, out))
        assert code == 0, err
    assert names(out) == sorted([FOLDER_RECORD, *WRITES["report"], *WRITES["export"]])
    assert sorted(json.loads((out / FOLDER_RECORD).read_text())["files"]) == sorted(WRITES["report"] + WRITES["export"])


def test_a_file_fervideo_wrote_but_the_user_changed_since_is_kept(result, tmp_path, capfd):
    out = tmp_path / "out"
    assert run(capfd, *command(result, EXPORT, out))[0] == 0
    with open(out / "step.eaf", "ab") as f:  # annotated by hand in ELAN, say
        f.write(b"<!-- mine -->\n")
    before = contents(out)
    code, err = run(capfd, *command(result, EXPORT, out))
    assert code == 1
    assert_one_error(err, f"{out / 'step.eaf'} is in the way", "changed since")
    assert contents(out) == before


def test_a_users_file_at_the_records_name_is_refused_and_kept(result, tmp_path, capfd):
    out = tmp_path / "out"
    out.mkdir()
    (out / FOLDER_RECORD).write_bytes(MINE)
    code, err = run(capfd, *command(result, REPORT, out))
    assert code == 1
    assert_one_error(err, f"{out / FOLDER_RECORD} is in the way")
    assert contents(out) == {FOLDER_RECORD: MINE}


def test_beside_a_json_that_no_fervideo_run_wrote_a_users_file_is_kept(result, tmp_path, capfd):
    for name in ("step.csv", "step.json"):
        shutil.copy(result / name, tmp_path / name)
    summary = json.loads((tmp_path / "step.json").read_text())
    del summary["fervideo_version"]  # a JSON that only looks like a result: it records nothing for fervideo
    (tmp_path / "step.json").write_text(json.dumps(summary))
    (tmp_path / "step.report.html").write_bytes(MINE)
    before = contents(tmp_path)
    code, err = run(capfd, "report", tmp_path / "step.csv")
    assert code == 1
    assert_one_error(err, f"{tmp_path / 'step.report.html'} is in the way")
    assert contents(tmp_path) == before


# --- defect 2: a FIFO named as the source video ----------------------------------------------------------------


def export_boris(folder: Path) -> dict:
    """export --format boris of folder's result in a process of its own, which must finish within 30 s."""
    argv = [sys.executable, "-m", "fervideo", "export", str(folder / "step.csv"), "--format", "boris", "-q"]
    child = subprocess.run(argv, capture_output=True, text=True, timeout=30)  # a regression fails, never hangs
    assert child.returncode == 0 and child.stderr == "", child.stderr
    project = json.loads((folder / "step.boris").read_text())
    del project["project_date"]  # the time of the export where the video is not there to date it
    for observation in project["observations"].values():
        del observation["date"]
    return project


def test_a_fifo_as_the_source_video_is_exported_like_a_missing_one(result, tmp_path):
    for name in ("step.csv", "step.json"):
        shutil.copy(result / name, tmp_path / name)
    fifo = tmp_path / "video" / "clip.mp4"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    summary = json.loads((tmp_path / "step.json").read_text())
    summary["input"]["path"] = summary["input"]["absolute_path"] = str(fifo)
    (tmp_path / "step.json").write_text(json.dumps(summary))
    from_fifo = export_boris(tmp_path)
    fifo.unlink()
    assert from_fifo == export_boris(tmp_path)  # the same project as for a video that is gone
    assert from_fifo["observations"]["clip"]["media_info"]["hasAudio"] == {"video/clip.mp4": False}


# --- defect 3: report checks the JSON as export does -----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("fps", 0, "input.fps is 0, not a frame rate above 0"),
        ("fps", -5, "input.fps is -5, not a frame rate above 0"),
        ("fps", "abc", 'input.fps is "abc", not a frame rate above 0'),
        ("fps", float("nan"), "input.fps is NaN, not a frame rate above 0"),
        (None, None, 'not a fervideo JSON summary (no "input" object)'),
    ],
    ids=["fps 0", "fps -5", "fps abc", "fps NaN", "input null"],
)
def test_report_refuses_the_json_that_export_refuses(result, tmp_path, capfd, field, value, says):
    shutil.copy(result / "step.csv", tmp_path / "step.csv")
    summary = json.loads((result / "step.json").read_text())
    if field is None:
        summary["input"] = None
    else:
        summary["input"][field] = value
    (tmp_path / "step.json").write_text(json.dumps(summary))
    before = contents(tmp_path)
    code, err = run(capfd, "report", tmp_path / "step.csv")
    assert code == 1
    assert_one_error(err, "step.json", says)
    assert (code, err) == run(capfd, "export", tmp_path / "step.csv", "--format", "eaf")  # word for word
    assert contents(tmp_path) == before


def test_an_analyze_stopped_by_what_report_wrote_there_says_so(result, tmp_path, capfd):
    # it stops, as at any file its own JSON does not list, but "no fervideo run wrote it" was not true
    from fervideo.core.errors import OutputError
    from fervideo.run.owned import replaceable

    out = tmp_path / "out"
    assert run(capfd, *command(result, REPORT, out))[0] == 0
    with pytest.raises(OutputError, match="report or export wrote it from a result elsewhere"):
        replaceable([out / "step.report.html"], out / "step.json", [])
    (out / "other.html").write_bytes(MINE)
    with pytest.raises(OutputError, match="no fervideo run wrote it"):
        replaceable([out / "other.html"], out / "step.json", [])
