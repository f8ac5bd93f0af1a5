"""The report's viewer on edge cases, in a real browser: a range cut by --start, a result moved, many tracks.

Skips where Chromium or Playwright is missing, as tests/outputs/test_viewer.py does.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from fervideo.cli import main
from fervideo.outputs.report import report_from_result
from tests.conftest import shared_path
from tests.helpers import read_csv


@pytest.fixture(scope="module")
def clip() -> Path:
    """single_face.mp4; looked up in a fixture so that without ../shared the tests skip instead of collecting none."""
    return shared_path("media", "single_face.mp4")


@pytest.fixture(scope="module")
def cut(tmp_path_factory, clip):
    """single_face.mp4 analysed from 1 s to 2 s: its annotated video plays that second from 0."""
    out = tmp_path_factory.mktemp("cut")
    assert main(["analyze", str(clip), "-o", str(out), "--start", "1", "--end", "2", "--report", "-q"]) == 0
    return out


def open_page(browser, page_path: Path):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_path.as_uri())
    page.wait_for_function("document.getElementById('fv-video').readyState >= 1", timeout=20000)
    return page, errors


def seek(page, t: float) -> None:
    page.evaluate(
        """t => new Promise(done => { const v = document.getElementById('fv-video');
           v.addEventListener('seeked', () => setTimeout(done, 50), {once: true}); v.currentTime = t; })""",
        t,
    )


def test_a_range_cut_by_start_plays_in_step_with_the_csv(browser, cut):
    page, errors = open_page(browser, cut / "single_face.report.html")
    rows = [r for r in read_csv(cut / "single_face.csv") if r["face_id"]]
    seek(page, 0.5)  # the annotated video's 0.5 s is the source's 1.5 s, where the CSV has the face
    row = min(rows, key=lambda r: abs(float(r["time_s"]) - 1.5))
    text = page.inner_text("#fv-now")
    assert "1.50 s" in text and f"1: {row['emotion']}" in text, text
    with open(cut / "single_face.episodes.csv", newline="") as f:
        first = next(csv.DictReader(f))
    page.locator("#fv-episodes button").first.click()
    page.wait_for_timeout(200)
    played = page.evaluate("document.getElementById('fv-video').currentTime")
    assert played == pytest.approx(float(first["start_s"]) - 1.0, abs=0.05)  # the episode's start, in the cut video
    assert not errors


def test_a_report_made_elsewhere_or_of_a_moved_result_plays_the_video_beside_it(cut, clip, tmp_path, monkeypatch):
    moved = tmp_path / "moved"
    shutil.copytree(cut, moved)
    summary = json.loads((moved / "single_face.json").read_text())
    summary["outputs"]["video"] = "out/single_face.annotated.mp4"  # as `analyze -o out` writes it: relative
    (moved / "single_face.json").write_text(json.dumps(summary))
    monkeypatch.chdir(tmp_path)  # neither the folder analyze ran in nor the result's
    report_from_result(moved / "single_face.csv")
    page = (moved / "single_face.report.html").read_text()
    src = unquote(page.split('<video id="fv-video"', 1)[1].split('src="', 1)[1].split('"', 1)[0])
    assert (moved / src).resolve() == (moved / "single_face.annotated.mp4").resolve()
    (moved / "single_face.annotated.mp4").unlink()  # gone: the source plays, from its own 0
    report_from_result(moved / "single_face.csv")
    page = (moved / "single_face.report.html").read_text()
    src = unquote(page.split('<video id="fv-video"', 1)[1].split('src="', 1)[1].split('"', 1)[0])
    assert (moved / src).resolve() == clip.resolve()
    assert '"start":0.0' in page


def test_many_tracks_are_drawn_without_a_layout_per_track(browser, cut, tmp_path):
    shutil.copytree(cut, tmp_path, dirs_exist_ok=True)
    with open(cut / "single_face.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    crowd = [[row[0], row[1], str(face), *row[3:]] for row in rows if row[2] for face in range(1, 201)]
    with open(tmp_path / "single_face.csv", "w", newline="") as f:
        csv.writer(f).writerows([header, *crowd])  # 200 faces in every frame
    report_from_result(tmp_path / "single_face.csv")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto((tmp_path / "single_face.report.html").as_uri())
    assert page.locator(".lane canvas").count() == 200
    layouts = next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "LayoutCount")
    # the lanes measured together, then drawn: a layout per lane made 3,000 tracks take 17 s to open, not 3
    assert layouts < 50


def test_a_video_the_browser_cannot_play_is_said_so_and_the_timelines_still_work(browser, cut, tmp_path):
    shutil.copytree(cut, tmp_path, dirs_exist_ok=True)
    (tmp_path / "single_face.annotated.mp4").write_bytes(b"\0" * 4096)  # as mp4v is to a browser: not playable
    report_from_result(tmp_path / "single_face.csv")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto((tmp_path / "single_face.report.html").as_uri())
    page.wait_for_function("document.getElementById('fv-video').error !== null", timeout=20000)
    assert "cannot play" in page.inner_text("#fv .player")  # not a black box without a word
    box = page.locator(".lane canvas").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert "1: " in page.inner_text("#fv-now")
