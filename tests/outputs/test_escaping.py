"""The report in a real browser with hostile and odd inputs (issue 33): markup in every field of a hand-edited
JSON stays text, and names with '#', '%' or ':' still play their video."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fervideo.cli import main
from tests.conftest import SAMPLE
from tests.helpers import poisoned, run

pytestmark = pytest.mark.integration

ODD = "odd #1 50%:x"  # a fragment, an escape and what a URL would read as its scheme


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("escaping")
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--no-video", "--every", "5", "-q"]) == 0
    return out


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def test_markup_in_every_field_of_the_json_stays_text(result, tmp_path, capsys, browser):
    shutil.copy(result / "demo.csv", tmp_path / "demo.csv")
    summary = json.loads((result / "demo.json").read_text())
    summary["outputs"]["video"] = "demo.annotated.mp4"  # so that the viewer is there too, its video's name poisoned
    hostile = poisoned(summary)
    for key in ("fps", "duration"):  # numbers that report checks as export does: poisoned, the JSON is refused
        hostile["input"][key] = summary["input"][key]
    hostile["episodes"]["min_seconds"] = summary["episodes"]["min_seconds"]
    (tmp_path / "demo.json").write_text(json.dumps(hostile))
    (tmp_path / Path(hostile["outputs"]["video"]).name).write_bytes(b"")  # the video it names, there beside the CSV
    code, err = run(capsys, "report", str(tmp_path / "demo.csv"))
    assert code == 0, err
    page, errors = open_page(browser, tmp_path / "demo.report.html")
    try:
        assert page.evaluate("window.pwned") is None
        assert page.locator("img[src=x]").count() == 0 and page.locator("script").count() == 2  # the viewer's own
        assert "window.pwned=1" in page.inner_text("main")  # shown as the text it is
        assert page.locator("#fv.on").count() == 1 and not errors  # the viewer still runs
    finally:
        page.close()


def test_a_nan_duration_in_the_json_is_refused_as_export_refuses_it(result, tmp_path, capsys):
    shutil.copy(result / "demo.csv", tmp_path / "demo.csv")
    summary = json.loads((result / "demo.json").read_text())
    summary["input"]["duration"] = float("nan")  # json writes NaN, which Python reads back but a browser does not
    (tmp_path / "demo.json").write_text(json.dumps(summary))
    code, err = run(capsys, "report", str(tmp_path / "demo.csv"))
    assert code == 1 and "input.duration is NaN, not a number of seconds" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.csv", "demo.json"]


@pytest.mark.parametrize("video", [True, False], ids=["annotated", "source"])
def test_the_viewer_plays_a_video_whose_name_has_hash_percent_and_colon(tmp_path, browser, media, video):
    folder = tmp_path / "in #2"
    folder.mkdir()
    source = folder / f"{ODD}.mp4"
    shutil.copy(media("single_face.mp4"), source)  # H.264, which Chromium plays (the sample is MPEG-4 Part 2)
    argv = ["analyze", str(source), "-o", str(tmp_path / "out 100%"), "--every", "5", "--report", "-q"]
    assert main(argv + ([] if video else ["--no-video"])) == 0
    page, errors = open_page(browser, tmp_path / "out 100%" / f"{ODD}.report.html")
    try:
        page.wait_for_function("document.getElementById('fv-video').readyState >= 1", timeout=30000)
        played = page.evaluate("decodeURIComponent(new URL(document.getElementById('fv-video').currentSrc).pathname)")
        expected = tmp_path / "out 100%" / f"{ODD}.annotated.mp4" if video else source
        assert Path(played) == expected and not errors
    finally:
        page.close()
