"""fervideo report on odd inputs: hand-edited JSON, giant boxes, spreadsheet CSVs, a full disk."""

from __future__ import annotations

import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from fervideo.cli import main
from fervideo.core import atomic, signals
from fervideo.outputs.sinks import CSV_HEADER
from tests.conftest import SAMPLE
from tests.faults import fill_disk
from tests.helpers import one_error_line, run


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


def write_earlier(tmp_path, earlier: dict[str, bytes]) -> None:
    """Files of an earlier report, recorded in the JSON as a fervideo run's own (else they are a user's: refused)."""
    import json

    for name, data in earlier.items():
        (tmp_path / name).write_bytes(data)
    summary = json.loads((tmp_path / "demo.json").read_text())
    summary["files"] = sorted({*summary["files"], *earlier})
    (tmp_path / "demo.json").write_text(json.dumps(summary))


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
    csv_path, _ = copy_result(result, tmp_path)
    fill_disk(monkeypatch, tmp_path, ".html", room=0)  # the plot fits, the page does not
    code, err = run(capsys, "report", str(csv_path))
    assert code == 1 and "could not write the report: No space left on device" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.csv", "demo.json"]


def test_report_on_a_full_disk_keeps_the_earlier_report_and_plot(result, tmp_path, capsys, monkeypatch):
    csv_path, _ = copy_result(result, tmp_path)
    earlier = {"demo.report.html": b"earlier page", "demo.timeline.png": b"earlier plot"}
    write_earlier(tmp_path, earlier)
    fill_disk(monkeypatch, tmp_path, ".html", room=1000)
    code, err = run(capsys, "report", str(csv_path))
    assert code == 1 and "No space left on device" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.csv", "demo.json", *earlier]  # no temporary left
    assert all((tmp_path / name).read_bytes() == data for name, data in earlier.items())


def test_a_ctrl_c_between_the_two_renames_waits_for_both(result, tmp_path, capsys, monkeypatch):
    csv_path, _ = copy_result(result, tmp_path)
    write_earlier(tmp_path, {"demo.report.html": b"earlier", "demo.timeline.png": b"earlier"})
    replace, placed = os.replace, []

    def interrupted_replace(src, dst):
        replace(src, dst)
        if Path(dst).name == "demo.timeline.png":  # the new plot is in place, the page not yet
            placed.append(dst)
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: Python's handler raises KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(atomic.os, "replace", interrupted_replace)
    try:
        code, err = run(capsys, "report", str(csv_path))
    finally:
        signal.signal(signal.SIGINT, previous)
        signals.reset()
    monkeypatch.undo()
    assert placed and code == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"interrupted; the finished results in {tmp_path} were kept" in lines[0]
    names = ["demo.csv", "demo.json", "demo.report.html", "demo.timeline.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary, no earlier file moved aside
    assert (tmp_path / "demo.report.html").read_text().startswith("<!DOCTYPE html>")  # new, like its plot
    assert (tmp_path / "demo.timeline.png").read_bytes().startswith(b"\x89PNG")


def test_report_refuses_a_csv_with_nan_in_one_line_and_writes_nothing(result, tmp_path, capsys):
    csv_path, _ = copy_result(result, tmp_path)
    lines = csv_path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if i and line.split(",")[2])  # a face's row
    cells = lines[row].split(",")
    cells[CSV_HEADER.index("happy")] = "nan"
    csv_path.write_text("\n".join([*lines[:row], ",".join(cells), *lines[row + 1 :]]) + "\n")
    code, err = run(capsys, "report", str(csv_path))
    assert code == 1 and f"line {row + 1}: happy is 'nan', not a finite number" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.csv", "demo.json"]


def test_report_of_a_csv_with_its_rows_out_of_order_is_the_report_of_the_sorted_csv(result, tmp_path, capsys):
    csv_path, _ = copy_result(result, tmp_path)
    assert run(capsys, "report", str(csv_path))[0] == 0
    expected = (tmp_path / "demo.report.html").read_text()
    head, *rows = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join([head, *reversed(rows)]) + "\n")  # sorted by hand, by time descending
    code, err = run(capsys, "report", str(csv_path))
    assert code == 0, err
    assert (tmp_path / "demo.report.html").read_text() == expected  # tracks, timeline, viewer and episodes alike


def test_report_refuses_a_face_twice_in_one_frame_in_one_line_and_writes_nothing(result, tmp_path, capsys):
    csv_path, _ = copy_result(result, tmp_path)
    lines = csv_path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if i and line.split(",")[2])  # a face's row, pasted again at the end
    csv_path.write_text("\n".join([*lines, lines[row]]) + "\n")
    code, err = run(capsys, "report", str(csv_path))
    frame, face = lines[row].split(",")[0], lines[row].split(",")[2]
    message = f"lines {row + 1} and {len(lines) + 1}: face {face} twice in frame {frame}"
    assert code == 1 and message in one_error_line(err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.csv", "demo.json"]


def test_a_duplicate_row_is_named_by_its_own_line_with_blank_lines_about(result, tmp_path, capsys):
    csv_path, _ = copy_result(result, tmp_path)
    head, first, *rest = csv_path.read_text().splitlines()
    assert first.split(",")[2], "the sample's first row holds a face"
    csv_path.write_text("\n".join([head, "", first, "", *rest, first]) + "\n")  # blank lines 2 and 4
    code, err = run(capsys, "report", str(csv_path))
    assert code == 1 and f"lines 3 and {len(rest) + 5}: face" in one_error_line(err), err


def test_export_of_a_csv_with_its_rows_out_of_order_is_the_export_of_the_sorted_csv(result, tmp_path, capsys):
    csv_path, _ = copy_result(result, tmp_path)
    assert run(capsys, "export", str(csv_path), "--format", "eaf")[0] == 0
    undated = lambda text: re.sub(r'DATE="[^"]*"', "", text)  # noqa: E731 - the second export runs later
    expected = undated((tmp_path / "demo.eaf").read_text())
    head, *rows = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join([head, *reversed(rows)]) + "\n")
    code, err = run(capsys, "export", str(csv_path), "--format", "eaf")
    assert code == 0, err
    assert undated((tmp_path / "demo.eaf").read_text()) == expected  # not episodes running backwards
