"""batch --report: OUT_DIR/index.html with a row per input, links to the reports, thumbnails and a chart."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import output_paths
from fervideo.run.batch.jobs import Job
from fervideo.run.batch.overview import write_overview
from tests.conftest import SAMPLE
from tests.helpers import poisoned, read_json, run


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
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert cells[4] == str(len(summary["tracks"])) != str(summary["counts"]["faces"])  # faces, not detections
        assert summary["tracks"][0]["dominant_emotion"] in row
        shares = [float(s) for s in re.findall(r'data-sort="([\d.]+)"', row)]
        assert len(shares) == 7 and sum(shares) == pytest.approx(1.0, abs=1e-3)
    broken = next(r for r in rows if "broken.mp4" in r)
    assert "failed" in broken and "href" not in broken
    assert "failed: " in broken and "not a readable video" in broken  # why, as index.csv's error column says


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


def test_the_overview_fits_a_1400_px_window(overview, tmp_path, browser):
    long = copy_result(overview, tmp_path, "interview_" + "_".join(["participant_0042_session"] * 4))
    long.row = {"input": str(long.input), "status": "ok", "dominant_emotion": "neutral"}
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    for index in (overview / "index.html", write_overview(long.out_dir, [long])):
        page.goto(index.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400, index
    page.close()


def copy_result(overview: Path, folder: Path, stem: str, edit=lambda summary: summary) -> Job:
    """The demo's result as another input's, in folder/out: its JSON (edited) and its report."""
    job = Job(folder / "in" / f"{stem}.mp4", folder / "out")
    job.out_dir.mkdir(parents=True, exist_ok=True)
    paths = output_paths(job.input, job.out_dir)
    paths["json"].write_text(json.dumps(edit(read_json(overview / "demo.json"))))
    shutil.copy(overview / "demo.report.html", paths["report"])
    return job


def test_markup_in_every_field_of_a_result_stays_text(overview, tmp_path, browser):
    job = copy_result(overview, tmp_path, "demo", poisoned)
    job.row = poisoned({"input": "", "status": "ok", "frames": 1, "faces": 1, "dominant_emotion": "", "error": ""})
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(write_overview(job.out_dir, [job]).as_uri())
    try:
        assert page.evaluate("window.pwned") is None and not errors
        assert page.locator("img[src=x]").count() == 0 and page.locator("script").count() == 1  # the sorting
        assert "window.pwned=1" in page.inner_text("#inputs tbody")  # shown as the text it is
    finally:
        page.close()


def test_a_name_with_hash_percent_and_colon_links_its_report(overview, tmp_path, browser):
    job = copy_result(overview, tmp_path, "odd #1 50%:x")
    job.row = {"input": str(job.input), "status": "ok", "faces": 1}
    page = browser.new_page()
    page.goto(write_overview(job.out_dir, [job]).as_uri())
    try:
        page.locator("#inputs a").first.click()
        page.wait_for_load_state("load")
        assert Path(unquote(urlparse(page.url).path)) == job.out_dir / "odd #1 50%:x.report.html"
        assert page.title().startswith("fervideo report")
    finally:
        page.close()


def test_a_rare_emotion_is_not_shown_as_none_nor_a_near_total_as_all(overview, tmp_path):
    def rare(summary: dict) -> dict:
        summary["tracks"] = summary["tracks"][:1]
        summary["tracks"][0]["top_emotion_frames"] = dict.fromkeys(EMOTIONS, 0) | {"happy": 299, "sad": 1}
        return summary

    job = copy_result(overview, tmp_path, "demo", rare)
    job.row = {"input": "demo.mp4", "status": "ok", "frames": 300, "faces": 1, "dominant_emotion": "happy", "error": ""}
    cells = write_overview(job.out_dir, [job]).read_text()
    assert ">&gt;99%</td>" in cells and ">&lt;1%</td>" in cells and 'title="sad &lt;1%"' in cells
