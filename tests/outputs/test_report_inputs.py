"""fervideo report on odd inputs: hand-edited JSON, giant boxes, spreadsheet CSVs, a full disk."""

from __future__ import annotations

import shutil

import pytest

from fervideo.cli import main
from tests.conftest import SAMPLE
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

    import fervideo.outputs.report as report_mod

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

