"""batch --report: OUT_DIR/index.html with a row per input, links to the reports, thumbnails and a chart."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.conftest import SAMPLE
from tests.helpers import read_json, run


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    from fervideo.cli import main

    folder, out = tmp_path_factory.mktemp("in"), tmp_path_factory.mktemp("out")
    shutil.copy(SAMPLE, folder / "demo.mp4")
    shutil.copy(SAMPLE, folder / "second.mp4")
    (folder / "broken.mp4").write_bytes(b"not a video")
    code = main(["batch", str(folder), "-o", str(out), "--every", "10", "--report", "--workers", "1", "-q"])
    assert code == 1  # the broken input failed; the others are in the overview all the same
    return out


def test_every_input_has_a_row_and_the_done_ones_link_their_report(overview):
    page = (overview / "index.html").read_text()
    rows = re.findall(r"<tr><td>.*?</tr>", page, re.S)  # the body rows, not the header
    assert len(rows) == 3
    for stem in ("demo", "second"):
        row = next(r for r in rows if f"{stem}.mp4" in r)
        assert f'href="{stem}.report.html"' in row and (overview / f"{stem}.report.html").is_file()
        assert "data:image/jpeg;base64," in row  # its thumbnail
        summary = read_json(overview / f"{stem}.json")
        assert f">{summary['counts']['faces']}<" in row and summary["tracks"][0]["dominant_emotion"] in row
        shares = [float(s) for s in re.findall(r'data-sort="([\d.]+)"', row)]
        assert len(shares) == 7 and sum(shares) == pytest.approx(1.0, abs=1e-3)
    broken = next(r for r in rows if "broken.mp4" in r)
    assert "failed" in broken and "href" not in broken


def test_the_overview_sorts_by_a_column_in_a_browser(overview, browser):
    page = browser.new_page()
    page.goto((overview / "index.html").as_uri())
    page.locator("#inputs th", has_text="status").click()
    first = page.locator("#inputs tbody tr").first.inner_text()
    page.locator("#inputs th", has_text="status").click()
    last = page.locator("#inputs tbody tr").first.inner_text()
    page.close()
    assert ("failed" in first) != ("failed" in last)  # sorted one way, then the other


def test_without_report_there_is_no_overview(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "demo.mp4")
    code, err = run(capsys, "batch", str(folder), "-o", str(tmp_path / "out"), "--every", "15", "--no-video", "-q")
    assert code == 0, err
    assert not (tmp_path / "out" / "index.html").exists()
