"""The report's interactive viewer in a real browser: headless Chromium, driven by Playwright (issue 16).

Skips where Chromium or Playwright is missing; `.ci/run` installs Chromium and sets FERVIDEO_REQUIRE_BROWSER=1,
so that in CI it runs or fails.
"""

from __future__ import annotations

import csv

import pytest

from tests.conftest import SAMPLE
from tests.helpers import read_csv


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from fervideo.cli import main

    out = tmp_path_factory.mktemp("viewer")
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--every", "2", "--report", "-q"]) == 0
    return out


def open_report(browser, result, javascript=True):
    page = browser.new_page(viewport={"width": 1100, "height": 1000}, java_script_enabled=javascript)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((result / "demo.report.html").as_uri())
    if javascript:
        page.wait_for_function("document.getElementById('fv-video').readyState >= 1", timeout=20000)
    return page, errors


def current_time(page) -> float:
    return page.evaluate("document.getElementById('fv-video').currentTime")


def label_at(rows: list[dict], face: int, t: float) -> str:
    """What the CSV says face shows at time t: its last analysed row at or before t."""
    row = max(
        (r for r in rows if r["face_id"] == str(face) and float(r["time_s"]) <= t + 1e-6),
        key=lambda r: float(r["time_s"]),
    )
    return f"{face}: {row['emotion']} {round(float(row['confidence']) * 100)}%"


def click_lane(page, track: int, fraction: float) -> None:
    box = page.locator(f'.lane[data-track="{track}"] canvas').bounding_box()
    page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
    page.wait_for_timeout(200)


def test_clicking_a_timeline_seeks_the_video_and_shows_the_csv_labels(browser, result):
    page, errors = open_report(browser, result)
    rows, duration = read_csv(result / "demo.csv"), page.evaluate("document.getElementById('fv-video').duration")
    for fraction, face in ((1.0 / 6, 1), (5.0 / 6, 2)):
        click_lane(page, face, fraction)
        t = current_time(page)
        assert t == pytest.approx(fraction * duration, abs=0.05)
        assert label_at(rows, face, t) in page.inner_text("#fv-now")
    assert not errors


def test_dragging_seeks_and_an_episode_jumps_to_its_start(browser, result):
    page, errors = open_report(browser, result)
    box = page.locator('.lane[data-track="1"] canvas').bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=5)
    page.mouse.up()
    assert current_time(page) == pytest.approx(0.3 * 6.0, abs=0.05)
    with open(result / "demo.episodes.csv", newline="") as f:
        last = list(csv.DictReader(f))[-1]
    page.locator("#fv-episodes button").last.click()
    page.wait_for_timeout(200)
    assert current_time(page) == pytest.approx(float(last["start_s"]), abs=1e-3)
    assert f"{last['face_id']}: {last['emotion']}" in page.inner_text("#fv-now")
    assert not errors


def test_a_hidden_track_leaves_the_timelines_and_the_labels(browser, result):
    page, _ = open_report(browser, result)
    click_lane(page, 2, 5.0 / 6)
    assert "2:" in page.inner_text("#fv-now")
    page.locator('#fv-tracks input[data-track="2"]').uncheck()
    assert not page.locator('.lane[data-track="2"]').is_visible()
    assert "2:" not in page.inner_text("#fv-now")


def test_without_javascript_the_static_report_remains(browser, result):
    page, _ = open_report(browser, result, javascript=False)
    assert not page.locator("#fv").is_visible()  # no dead player
    assert page.locator("table").count() >= 2 and page.locator("img.plot").is_visible()
