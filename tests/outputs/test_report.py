"""The HTML report and timeline plot: from `analyze --report` and from `fervideo report RESULT.csv`."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from fervideo.cli import main
from fervideo.outputs.timeline import HEADER, PANEL, WIDTH
from tests.conftest import SAMPLE
from tests.helpers import Page, read_json

pytestmark = pytest.mark.integration


def read_page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> Path:
    """The sample clip analysed with --report, from a copy that tests may take away; --no-reid keeps its two tracks
    (the person before and after the camera pans away), so the report's several-track layout is what is checked."""
    folder = tmp_path_factory.mktemp("report")
    source = folder / "demo.mp4"
    shutil.copy(SAMPLE, source)
    argv = ["analyze", str(source), "-o", str(folder / "out"), "--report", "--smooth", "0.3", "--every", "2"]
    argv += ["--no-reid", "--quiet"]
    assert main(argv) == 0
    return folder / "out"


def check_report(page: Page, summary: dict, timeline: Path, thumbnails: bool) -> None:
    text = " ".join(page.text)
    # self-contained: nothing from the network, no script file; only the viewer's video, beside the page
    assert all("://" not in url and not url.startswith("//") and url.endswith(".mp4") for url in page.external)
    assert summary["tracks"] and summary["input"]["path"] in text and summary["model"]["name"] in text
    for track in summary["tracks"]:
        assert f"Track #{track['id']}" in text and track["dominant_emotion"] in text
    assert page.pngs() == [timeline.read_bytes()]  # the plot itself, inlined
    # a face for each emotion that was on top at least once, none for those that never were ("angry 0.00")
    shown = [(t["id"], e) for t in summary["tracks"] for e, n in t["top_emotion_frames"].items() if n > 0]
    assert page.tags.count("figure") == len(shown) < 7 * len(summary["tracks"])
    assert len(page.jpegs()) == (len(shown) if thumbnails else 0)
    for jpeg in page.jpegs():
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (96, 96, 3)


def test_analyze_report(analysed):
    summary = read_json(analysed / "demo.json")
    assert len(summary["tracks"]) == 2
    check_report(read_page(analysed / "demo.report.html"), summary, analysed / "demo.timeline.png", thumbnails=True)
    plot = cv2.imread(str(analysed / "demo.timeline.png"))
    assert plot.shape == (HEADER + 2 * PANEL, WIDTH, 3) == (410, 1000, 3)
    assert summary["outputs"]["report"].endswith("demo.report.html")


def test_report_of_an_earlier_result(analysed, tmp_path, capsys):
    assert main(["report", str(analysed / "demo.csv"), "-o", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "demo.report.html" in err
    # and the folder's record of them, so that a rerun replaces them and nothing else
    names = [".fervideo-files.json", "demo.report.html", "demo.timeline.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    summary = read_json(analysed / "demo.json")
    check_report(read_page(tmp_path / "demo.report.html"), summary, tmp_path / "demo.timeline.png", thumbnails=True)


def test_report_when_the_source_is_gone(analysed, tmp_path, capsys):
    source = Path(read_json(analysed / "demo.json")["input"]["absolute_path"])
    hidden = source.with_name("elsewhere.mp4")
    source.rename(hidden)
    try:
        code = main(["report", str(analysed / "demo.csv"), "-o", str(tmp_path)])
    finally:
        hidden.rename(source)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 0
    assert lines[0].startswith("warning:") and "demo.mp4 is gone" in lines[0] and "no face pictures" in lines[0]
    page = read_page(tmp_path / "demo.report.html")
    check_report(page, read_json(analysed / "demo.json"), tmp_path / "demo.timeline.png", thumbnails=False)
    assert "is gone" in " ".join(page.text)  # the page says why, too


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.csv", "missing.csv: no such file"),
        ("other.csv", "not a fervideo result CSV"),
        ("lonely.csv", "lonely.json: no such file; the report needs the JSON"),
    ],
)
def test_report_errors_are_one_line(analysed, tmp_path, capsys, name, message):
    shutil.copy(analysed / "demo.csv", tmp_path / "lonely.csv")  # a result without its JSON
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    code = main(["report", str(tmp_path / name)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not list(tmp_path.glob("*.report.html"))


def test_report_of_a_photo(tmp_path, media):
    photo = media("multi_face.jpg")
    assert main(["analyze", str(photo), "-o", str(tmp_path), "--report", "--no-video", "--quiet"]) == 0
    summary = read_json(tmp_path / "multi_face.json")
    assert len(summary["tracks"]) == 5
    check_report(read_page(tmp_path / "multi_face.report.html"), summary, tmp_path / "multi_face.timeline.png", True)
    assert cv2.imread(str(tmp_path / "multi_face.timeline.png")).shape == (HEADER + 5 * PANEL, WIDTH, 3)
