"""The report's numbers and words against the result they report: counts, shares, sampling, a photo."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from fervideo.cli import main
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.report import render_html
from fervideo.outputs.results import ResultTable
from fervideo.outputs.timeline import LEFT, LEGEND, PAD_BOTTOM, PANEL, RIGHT, WIDTH, timeline_png
from tests.conftest import SAMPLE
from tests.helpers import Page, read_json


class Cells(Page):
    """A page's table rows, each as its cells' text, beside what Page reads."""

    def __init__(self, text: str) -> None:
        self.rows: list[list[str]] = []
        super().__init__(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append("")

    def handle_data(self, data: str) -> None:
        super().handle_data(data)
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data

    def row(self, first: str) -> list[str]:
        """The first row whose first cell is first."""
        return next(r for r in self.rows if r and r[0].strip() == first)


def empty_table() -> ResultTable:
    """A table of no rows: the page's text does not depend on it, only its plot and viewer."""
    return ResultTable(
        frame=np.zeros(0, np.int64),
        time_s=np.zeros(0),
        face_id=np.zeros(0, np.int64),
        emotion=np.zeros(0, np.int64),
        xyxy=np.zeros((0, 4)),
        probs=np.zeros((0, 7)),
    )


def track(top: dict[str, int]) -> dict:
    """A track summary with top_emotion_frames top, one analysed frame a second."""
    frames = sum(top.values())
    return {
        "id": 1,
        "first_time_s": 0.0,
        "last_time_s": frames - 1.0,
        "frames": frames,
        "seconds": float(frames),
        "dominant_emotion": max(top, key=top.get),
        "top_emotion_frames": {e: top.get(e, 0) for e in EMOTIONS},
    }


def page(summary: dict) -> Cells:
    return Cells(render_html(summary, empty_table(), b"", {}))


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """The sample clip's first second, one frame in three: its JSON and its report."""
    out = tmp_path_factory.mktemp("content")
    argv = ["analyze", str(SAMPLE), "-o", str(out), "--report", "--end", "1", "--every", "3", "--no-video", "-q"]
    assert main(argv) == 0
    return read_json(out / "demo.json"), Cells((out / "demo.report.html").read_text(encoding="utf-8"))


@pytest.mark.integration
def test_the_video_row_counts_the_videos_frames_not_those_decoded_before_end(sampled):
    summary, report = sampled
    info = summary["input"]
    assert info["frames_read"] < info["frames"]  # --end 1 of a 6 s clip
    assert f"{info['duration']:g} s, {info['frames']} frames" in report.row("video")[1]


@pytest.mark.integration
def test_every_nth_frame_reads_as_english_and_the_frames_column_says_analysed(sampled):
    summary, report = sampled
    assert report.row("analysed")[1].startswith("every 3rd frame, from 0 s to 1 s")
    head = report.row("track")
    assert head[3] == "analysed frames"
    assert report.row("#1")[3] == str(summary["tracks"][0]["frames"])


def test_a_rare_emotion_is_not_shown_as_0_percent_nor_a_near_total_as_100():
    report = page({"tracks": [track({"angry": 1, "happy": 249})]})
    shares = dict(zip(EMOTIONS, report.row("#1")[5:], strict=True))
    assert shares["angry"] == "<1%" and shares["happy"] == ">99%" and shares["sad"] == "0%"
    assert page({"tracks": [track({"happy": 3})]}).row("#1")[5:][EMOTIONS.index("happy")] == "100%"


def test_the_looking_at_the_camera_share_is_rounded_the_same_way():
    tracks = [{**track({"happy": 250}), "face_features": {"looking_at_camera_share": 0.996}}]
    assert page({"tracks": tracks}).rows[-1][4] == ">99%"


def test_a_photo_is_not_described_as_a_stretch_of_seconds():
    summary = {
        "input": {"path": "p.jpg", "is_image": True, "width": 10, "height": 10},
        "sampling": {"every": 1, "fps": None, "start": 0.0, "end": 3.0},
    }
    assert page(summary).row("analysed")[1] == "the photo"


def test_an_end_past_the_video_reads_as_its_end():
    summary = {
        "input": {"path": "v.mp4", "fps": 30, "duration": 2.4, "frames": 72, "frames_read": 72},
        "sampling": {"every": 1, "fps": None, "start": 0.0, "end": 3.0},
    }
    text = page(summary).row("analysed")[1]
    assert text == "every frame, from 0 s to the end", text
    assert not re.search(r"\b3 s\b", text)


def test_the_plot_of_a_photo_has_no_time_axis_of_a_second_it_never_had():
    """It used to read 0 to 1 s under a photo."""
    table = ResultTable(
        frame=np.zeros(1, np.int64),
        time_s=np.zeros(1),
        face_id=np.ones(1, np.int64),
        emotion=np.full(1, EMOTIONS.index("happy")),
        xyxy=np.array([[0.0, 0.0, 10.0, 10.0]]),
        probs=np.eye(7)[[EMOTIONS.index("happy")]],
    )
    plot = cv2.imdecode(np.frombuffer(timeline_png(table), np.uint8), cv2.IMREAD_GRAYSCALE)
    # under the last panel's bottom line, right of the y axis' own 0: where the ticks' seconds would be
    axis = LEGEND + PANEL - PAD_BOTTOM
    assert (plot[axis + 2 : axis + 24, LEFT + 10 : WIDTH - RIGHT - 10] > 200).all()
