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
    # --no-reid: the person before and after the camera pans away stays two tracks, so the track toggles are tested
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--every", "2", "--report", "--no-reid", "-q"]) == 0
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


# pixels within 12 of color per channel, in a band (shares of its height) of the lane's canvas
COUNT_COLOR = """([track, color, top, bottom]) => {
  const c = document.querySelector(`.lane[data-track="${track}"] canvas`), g = c.getContext('2d');
  const y0 = Math.floor(c.height * top), rgb = [1, 3, 5].map(i => parseInt(color.slice(i, i + 2), 16));
  const d = g.getImageData(0, y0, c.width, Math.max(1, Math.floor(c.height * bottom) - y0)).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && rgb.every((v, k) => Math.abs(d[i + k] - v) <= 12)) n++;
  return n;
}"""


def drawn(page, track: int, color: str, top: float = 0.0, bottom: float = 1.0) -> int:
    return page.evaluate(COUNT_COLOR, [track, color, top, bottom])


def test_the_timelines_have_a_legend_a_time_axis_and_the_head_pose(browser, result):
    from fervideo.outputs.viewer import AXIS_COLOR, POSE_COLORS

    page, errors = open_report(browser, result)
    legend = page.inner_text("#fv-legend")
    assert all(name in legend for name in ("happy", "neutral", "valence", "yaw", "pitch", "blink"))
    width = page.evaluate("document.querySelector('.lane canvas').width")
    for track in page.evaluate("Object.keys(JSON.parse(document.getElementById('fv-data').textContent).tracks)"):
        assert drawn(page, track, AXIS_COLOR, 0.88) > 0.9 * width  # the axis line under the curves, and its ticks
        assert drawn(page, track, POSE_COLORS["yaw"], 0.6) > 50 and drawn(page, track, POSE_COLORS["pitch"], 0.6) > 50
        assert drawn(page, track, POSE_COLORS["yaw"], 0.0, 0.5) == 0  # in its own band, under the probabilities
    assert not errors


def test_an_old_csv_without_the_feature_columns_still_renders(browser, result, tmp_path):
    import shutil

    from fervideo.outputs.report import report_from_result
    from fervideo.outputs.sinks import BASE_HEADER
    from fervideo.outputs.viewer import AXIS_COLOR, POSE_COLORS

    with open(result / "demo.csv", newline="") as f:
        rows = list(csv.reader(f))
    with open(tmp_path / "demo.csv", "w", newline="") as f:
        csv.writer(f).writerows(row[: len(BASE_HEADER)] for row in rows)
    shutil.copy(result / "demo.json", tmp_path / "demo.json")
    report_from_result(tmp_path / "demo.csv")
    page, errors = open_report(browser, tmp_path)
    legend = page.inner_text("#fv-legend")
    assert "valence" in legend and "yaw" not in legend and "blink" not in legend
    width = page.evaluate("document.querySelector('.lane canvas').width")
    assert drawn(page, 1, AXIS_COLOR, 0.8) > 0.9 * width
    assert drawn(page, 1, POSE_COLORS["yaw"]) == 0 and drawn(page, 1, POSE_COLORS["pitch"]) == 0
    assert not errors


def test_unticking_the_only_face_on_screen_says_it_is_hidden_not_that_there_is_none(browser, result):
    page, errors = open_report(browser, result)
    click_lane(page, 1, 1.0 / 6)  # only face 1 is on screen then
    assert "1:" in page.inner_text("#fv-now") and "no face" not in page.inner_text("#fv-now")
    page.locator('#fv-tracks input[data-track="1"]').uncheck()
    text = page.inner_text("#fv-now")
    assert "1:" not in text and "no face" not in text and "1 hidden track on screen" in text, text
    page.locator('#fv-tracks input[data-track="1"]').check()
    assert "1:" in page.inner_text("#fv-now") and "hidden" not in page.inner_text("#fv-now")
    assert not errors
