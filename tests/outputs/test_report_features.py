"""The report's head pose, gaze and blinks per track, and the segments that re-identification joined (issue 35)."""

from __future__ import annotations

import pytest

from fervideo.cli import main
from fervideo.outputs.report_features import features_section
from tests.conftest import SAMPLE
from tests.helpers import Page, read_json

TRACK = {
    "id": 3,
    "face_features": {
        "frames": 40,
        "head_pose_deg": {"yaw": {"mean": 12.34, "sd": 2.0}, "pitch": {"mean": -4.0, "sd": 1.0}, "roll": {}},
        "looking_at_camera_share": 0.25,
        "blinks": 4,
        "blinks_per_minute": 12.5,
    },
    "segments": [{"first_time_s": 0.0, "last_time_s": 2.4}, {"first_time_s": 4.4, "last_time_s": 5.92}],
}


def text(html: str) -> str:
    return " ".join(Page(html).text)


def test_the_table_shows_each_tracks_features_and_segments():
    shown = text(features_section([TRACK]))
    for part in ("#3", "12.3° ± 2.0", "-4.0° ± 1.0", "25%", "4", "12.5", "0.0–2.4 s, 4.4–5.9 s"):
        assert part in shown
    assert "roll" in shown and "–" in shown  # a field the JSON lacks is a dash


def test_old_results_and_hand_edited_fields():
    assert features_section([{"id": 1, "segments": [{"first_time_s": 0, "last_time_s": 3}]}]) == ""  # nothing new
    assert features_section([{"id": 1}, "junk"]) == ""
    junk = {"id": "<b>", "face_features": {"head_pose_deg": "x", "blinks": "many", "looking_at_camera_share": None}}
    html = features_section([junk, {**TRACK, "segments": [{"first_time_s": "a"}, 5, *TRACK["segments"]]}])
    assert "<b>" not in html and "&lt;b&gt;" in html and "0.0–2.4 s, 4.4–5.9 s" in text(html)


@pytest.mark.integration
def test_analyze_and_report_show_the_features_of_the_sample(tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--every", "2", "--report", "--no-video", "-q"]) == 0
    track = read_json(out / "demo.json")["tracks"][0]
    features, spans = track["face_features"], [(s["first_time_s"], s["last_time_s"]) for s in track["segments"]]
    page = text((out / "demo.report.html").read_text())
    assert "Head pose, gaze and blinks" in page
    assert f"{features['head_pose_deg']['yaw']['mean']:.1f}° ± {features['head_pose_deg']['yaw']['sd']:.1f}" in page
    assert f"{100 * features['looking_at_camera_share']:.0f}%" in page
    segments = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in spans)
    assert segments in page
    # `fervideo report` reads the same numbers back from the CSV's columns
    assert main(["report", str(out / "demo.csv"), "-o", str(tmp_path / "again"), "-q"]) == 0
    again = text((tmp_path / "again" / "demo.report.html").read_text())
    assert "Head pose, gaze and blinks" in again and segments in again


def test_the_note_says_what_looking_at_the_camera_and_a_missing_blink_count_mean():
    """The README's definition (gaze within 10 degrees, head turned under 30, eyes half open), not only the gaze;
    and why a track sampled too sparsely has no blink count (face_features.track_features gives null)."""
    sparse = {**TRACK, "face_features": {**TRACK["face_features"], "blinks": None, "blinks_per_minute": None}}
    shown = text(features_section([sparse]))
    assert "30 degrees" in shown and "half open" in shown
    assert "more than 0.5 s apart" in shown
