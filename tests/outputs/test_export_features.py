"""The face mesh's numbers in the exports (issue 35): BORIS's per-face series and ELAN's blink and gaze tiers."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fervideo.cli import main
from fervideo.core.detections import FACE_FEATURES
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.boris import write_face_series
from fervideo.outputs.exports import write_eaf
from fervideo.outputs.face_features import face_events, true_spans
from tests.conftest import SAMPLE
from tests.helpers import read_csv

COLUMN = {name: k for k, name in enumerate(FACE_FEATURES)}


def features(times: np.ndarray) -> np.ndarray:
    """Eyes open but shut at 1.0-1.2 s, looking at the camera from 0.5 s to 2 s; no mesh at 3 s."""
    out = np.zeros((len(times), len(FACE_FEATURES)))
    shut = (times >= 1.0) & (times < 1.2)
    out[:, [COLUMN["eye_open_left"], COLUMN["eye_open_right"]]] = np.where(shut, 0.1, 0.9)[:, None]
    out[:, COLUMN["yaw"]] = 12.345
    out[:, COLUMN["looking_at_camera"]] = (times >= 0.5) & (times < 2.0)
    out[times == 3.0] = np.nan
    return out


def test_spans_end_where_the_next_frame_starts_or_one_step_after_a_gap():
    times = np.array([0.0, 0.1, 0.2, 0.3, 2.0, 2.1])
    assert true_spans(times, [1, 1, 0, 1, 1, 1], gap=0.5) == [(0.0, 0.2), (0.3, 0.4), (2.0, 2.2)]
    assert true_spans(times, [0] * 6, gap=0.5) == [] and true_spans(np.array([]), [], 0.5) == []


def test_events_are_the_blinks_and_the_looking_stretches():
    times = np.round(np.arange(0, 4, 0.1), 4)
    events = face_events(times, features(times), gap=0.5)
    assert events["blink"] == [(1.0, 1.2)]
    assert events["looking at camera"] == [(0.5, 2.0)]


def test_the_face_series_carries_the_features_as_the_csv_rounds_them(tmp_path):
    times = np.round(np.arange(0, 4, 0.1), 4)
    path = tmp_path / "clip.face1.tsv"
    write_face_series(path, np.arange(len(times)), times, np.full((len(times), 7), 1 / 7), features(times))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert list(rows[0]) == ["time_s", *EMOTIONS, "valence", "frame", *FACE_FEATURES]
    assert rows[0]["yaw"] == "12.3" and rows[0]["eye_open_left"] == "0.900" and rows[0]["looking_at_camera"] == "0"
    assert rows[5]["looking_at_camera"] == "1" and rows[30]["yaw"] == "nan"  # no mesh at 3 s
    data = np.loadtxt(path, delimiter="\t", skiprows=1)  # how BORIS reads a column (utilities.txt2np_array)
    assert data.shape == (len(times), 10 + len(FACE_FEATURES)) and np.isnan(data[30, -1])


def test_the_eaf_has_a_blink_and_a_looking_tier_per_face(tmp_path):
    from pympi.Elan import Eaf

    media = tmp_path / "clip.mp4"
    media.write_bytes(b"")
    events = {2: {"blink": [(1.0, 1.2), (3.0, 3.0)], "looking at camera": [(0.5, 2.0)]}}
    write_eaf(tmp_path / "clip.eaf", [], media, [1, 2], events)
    eaf = Eaf(str(tmp_path / "clip.eaf"))
    assert sorted(eaf.get_tier_names()) == ["face 1", "face 2", "face 2 blinks", "face 2 looking at camera"]
    assert eaf.get_annotation_data_for_tier("face 2 blinks") == [(1000, 1200, "blink")]  # an empty span left out
    assert eaf.get_annotation_data_for_tier("face 2 looking at camera") == [(500, 2000, "looking at camera")]


@pytest.mark.integration
def test_analyze_and_export_carry_the_features(tmp_path, capsys):
    from pympi.Elan import Eaf

    out = tmp_path / "out"
    argv = ["analyze", str(SAMPLE), "-o", str(out), "--every", "2", "--export", "eaf,boris", "--no-video", "-q"]
    assert main(argv) == 0
    rows = [r for r in read_csv(out / "demo.csv") if r["face_id"] == "1"]
    with open(out / "demo.face1.tsv", newline="") as f:
        series = list(csv.DictReader(f, delimiter="\t"))
    for name in FACE_FEATURES:  # the same cells as the CSV's, nan for its empty ones
        assert [r[name] for r in series] == [r[name] or "nan" for r in rows]
    looking = [(round(float(r["time_s"]) * 1000), r["looking_at_camera"] == "1") for r in rows]
    eaf = Eaf(str(out / "demo.eaf"))
    spans = eaf.get_annotation_data_for_tier("face 1 looking at camera")
    assert spans and all(any(a <= t < b for a, b, _ in spans) == on for t, on in looking)
    blinks = eaf.get_annotation_data_for_tier("face 1 blinks")
    # `fervideo export` of the result writes the same from the CSV's columns
    assert main(["export", str(out / "demo.csv"), "--format", "eaf,boris", "-o", str(tmp_path / "again")]) == 0
    again = Eaf(str(tmp_path / "again" / "demo.eaf"))
    assert again.get_annotation_data_for_tier("face 1 looking at camera") == spans
    assert again.get_annotation_data_for_tier("face 1 blinks") == blinks
    with open(tmp_path / "again" / "demo.face1.tsv", newline="") as f:
        exported = list(csv.DictReader(f, delimiter="\t"))
    assert [[r[n] for n in FACE_FEATURES] for r in exported] == [[r[n] for n in FACE_FEATURES] for r in series]
