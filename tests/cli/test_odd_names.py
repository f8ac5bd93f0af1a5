"""Names OpenCV cannot be given (bytes that are not UTF-8) are refused in one line, never a crash (a SIGSEGV before)."""

from __future__ import annotations

import csv
import os
import shutil

import pytest

from fervideo.core.errors import InputError
from fervideo.core.paths import local
from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run

BAD = os.fsdecode(b"clip\xff\xfe.mp4")  # what Python makes of such a name: lone surrogates


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{bad}", "-o", "{out}"],
        ["analyze", str(SAMPLE), "-o", "{bad}"],
        ["live", "--camera", str(SAMPLE), "--no-window", "--max-frames", "2", "--csv", "{bad}"],
        ["report", "{bad}"],
    ],
    ids=["input", "-o", "live --csv", "report"],
)
def test_a_name_that_is_not_utf8_is_one_usage_line(tmp_path, capsys, argv):
    bad, out = os.path.join(tmp_path, BAD), tmp_path / "out"
    shutil.copy(SAMPLE, bad)
    code, err = run(capsys, *(a.format(bad=bad, out=out) for a in argv))
    line = one_error_line(err)
    assert code == 2 and "not valid UTF-8" in line and "clip\\xff\\xfe.mp4" in line, line
    assert sorted(os.listdir(tmp_path)) == [BAD]  # nothing written beside it


def test_opencv_is_never_given_such_a_name():
    with pytest.raises(InputError, match="not valid UTF-8"):
        local(BAD)


def test_a_batch_fails_that_input_alone_and_keeps_its_name_in_the_index(tmp_path, capsys):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "fine.mp4")
    shutil.copy(SAMPLE, os.path.join(folder, BAD))
    code, _ = run(capsys, "batch", str(folder), "-o", str(out), "--no-video", "--end", "0.5", "--workers", "1")
    assert code == 1 and (out / "fine.json").is_file()
    with open(out / "index.csv", newline="", errors="surrogateescape") as f:
        rows = {os.path.basename(row["input"]): row for row in csv.DictReader(f)}
    assert rows["fine.mp4"]["status"] == "ok"
    assert rows[BAD]["status"] == "failed" and "not valid UTF-8" in rows[BAD]["error"]
    code, _ = run(capsys, "batch", str(folder), "-o", str(out), "--no-video", "--end", "0.5", "--workers", "1")
    assert code == 1  # the index reads back: the same batch again, not "the index of another batch"


def test_live_refuses_such_a_camera_file_in_one_line(tmp_path, capsys):
    bad = os.path.join(tmp_path, BAD)
    shutil.copy(SAMPLE, bad)
    code, err = run(capsys, "live", "--camera", bad, "--no-window", "--max-frames", "2")
    assert code == 1 and "not valid UTF-8" in one_error_line(err)


def test_live_wants_its_recording_and_csv_in_one_folder(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    record, table = tmp_path / "b.mp4", tmp_path / "sub" / "b.csv"
    code, err = run(
        capsys,
        "live",
        "--camera",
        str(SAMPLE),
        "--no-window",
        "--max-frames",
        "2",
        "--record",
        str(record),
        "--csv",
        str(table),
    )
    assert code == 2 and "must be in one folder" in one_error_line(err)  # was an internal error after the whole run
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sub"]
