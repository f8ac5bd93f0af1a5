"""The face mesh's columns in the CSV and its per-track numbers in the JSON: blinks, pose, looking at the camera."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fervideo.core.detections import FACE_FEATURES
from fervideo.core.frames import FrameResult
from fervideo.outputs.face_features import blink_times, track_features, true_spans
from fervideo.outputs.results import read_table
from fervideo.outputs.sinks import BASE_HEADER, CSV_HEADER, CsvSink
from fervideo.outputs.summary import Summary
from tests.helpers import faces

FPS = 30.0


def openness(dips: list[tuple[float, float]], seconds: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Eyes open (0.9) but for each (start, length) in seconds, where they are shut (0.05)."""
    times = np.arange(round(seconds * FPS)) / FPS
    values = np.full(len(times), 0.9)
    for start, length in dips:
        values[(times >= start) & (times < start + length)] = 0.05
    return times, values


def test_blinks_are_short_dips_that_recover():
    times, values = openness([(1.0, 0.1), (3.0, 0.3), (5.0, 1.5), (9.9, 0.2)])
    # 1.5 s shut is eyes closed, not a blink; the dip at the end never recovers
    assert blink_times(times, values) == pytest.approx([1.0, 3.0], abs=1 / FPS)


def test_blink_threshold_follows_the_track():
    """A track whose eyes read half open throughout blinks against its own usual openness."""
    times, values = openness([(2.0, 0.2)])
    assert len(blink_times(times, values * 0.5)) == 1
    assert blink_times(times, np.full(len(times), 0.4)) == []


def track(seconds: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    times, values = openness([(1.0, 0.1), (4.0, 0.1)], seconds)
    features = np.zeros((len(times), len(FACE_FEATURES)), np.float32)
    features[:, 0] = np.where(times < 5, 10.0, -10.0)  # yaw
    features[:, 3] = features[:, 4] = values
    features[:, 8] = times < 2.5  # looking at the camera for a quarter of the time
    return times, features


def test_track_features():
    times, features = track()
    features[::10, 1] = np.nan  # frames where the mesh found no face are left out
    out = track_features(times, features, seconds=10.0)
    assert out["frames"] == len(times) - len(times[::10])
    assert out["head_pose_deg"]["yaw"] == {"mean": pytest.approx(0, abs=0.5), "sd": pytest.approx(10, abs=0.1)}
    assert out["looking_at_camera_share"] == pytest.approx(0.25, abs=0.01)
    assert out["blinks"] == 2
    assert out["blinks_per_minute"] == 12.0
    assert track_features(times, np.full_like(features, np.nan), 10.0) is None


def test_summary_carries_the_features_per_track():
    summary, (times, features) = Summary(), track(3.0)
    for i, time_s in enumerate(times):
        found = faces(1)
        found.features = features[i : i + 1]
        summary.update(FrameResult(i, float(time_s), None, True, found))
    (only,) = summary.track_list()
    assert only["face_features"]["blinks"] == 1
    plain = Summary()
    plain.update(FrameResult(0, 0.0, None, True, faces(1)))
    assert plain.track_list()[0]["face_features"] is None  # --no-face-features


def test_csv_columns_and_old_csvs_still_read(tmp_path):
    """The 9 columns come after valence, empty without features; CSVs from before them still read."""
    with_features = faces(2)
    with_features.features = np.array([[12.34, -5.0, 3.0, 0.9, 0.8, 0.1, 2.0, -1.0, 1.0], [np.nan] * 9], np.float32)
    with CsvSink(tmp_path / "a.csv") as sink:
        sink.write(FrameResult(0, 0.0, None, True, with_features))
        sink.write(FrameResult(1, 0.04, None, True, faces(1)))
    with open(tmp_path / "a.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == CSV_HEADER and CSV_HEADER[: len(BASE_HEADER)] == BASE_HEADER
    tail = len(FACE_FEATURES)
    assert rows[1][-tail:] == ["12.3", "-5.0", "3.0", "0.900", "0.800", "0.100", "2.0", "-1.0", "1"]
    assert rows[2][-tail:] == rows[3][-tail:] == [""] * tail  # no mesh on that face; no features computed
    new = read_table(tmp_path / "a.csv")
    for header in (BASE_HEADER, BASE_HEADER[:-1]):  # before the face mesh; before valence too
        old = tmp_path / f"old{len(header)}.csv"
        with open(old, "w", newline="") as f:
            csv.writer(f).writerows([header, *(row[: len(header)] for row in rows[1:])])
        assert np.array_equal(read_table(old).face_id, new.face_id)


def test_one_frame_has_no_standard_deviation():
    """A photo (or a face the mesh found once) has a mean pose but no spread to tell: sd is null, not 0."""
    times, features = track()
    one = track_features(times[:1], features[:1], seconds=0.0)
    assert one["frames"] == 1 and one["head_pose_deg"]["yaw"] == {"mean": 10.0, "sd": None}
    assert one["blinks"] is None and one["blinks_per_minute"] is None  # one frame cannot see a blink
    two = track_features(times[:2], features[:2], seconds=2 / FPS)
    assert two["head_pose_deg"]["yaw"]["sd"] == 0.0


def test_sparse_sampling_is_no_gap_in_a_stretch():
    """--fps 1.5 on a 26 fps clip: analysed frames 0.65-0.69 s apart, each over the 0.5 s gap. A face that looks
    at the camera in all of them looks in one stretch per stay on screen, not one stretch per frame with holes."""
    times = np.array([0.0, 0.6538, 1.3462, 2.0, 2.6538, 10.6538, 11.3462, 12.0])
    spans = true_spans(times, np.ones(len(times)), gap=0.5)
    assert spans == [(0.0, pytest.approx(3.3076)), (10.6538, pytest.approx(12.6538))]


def test_blinks_are_unknown_where_the_sampling_cannot_see_one():
    """--fps 1: frames 1 s apart, over the 0.5 s a blink has to recover in, so no blink could ever be counted. The
    person did blink (a frame caught shut): 0 blinks and 0 a minute would be wrong, null says it was not measured."""
    times = np.arange(0, 20.0, 1.0)
    values = np.full((len(times), len(FACE_FEATURES)), 0.9, np.float32)
    values[5, [3, 4]] = 0.05
    sparse = track_features(times, values, seconds=20.0)
    assert sparse["frames"] == 20 and sparse["head_pose_deg"]["yaw"]["mean"] == pytest.approx(0.9)
    assert sparse["blinks"] is None and sparse["blinks_per_minute"] is None and sparse["blink_times_s"] is None
    dense = track_features(*track(3.0), seconds=3.0)  # 30 frames a second
    assert dense["blinks"] == 1 and dense["blinks_per_minute"] == 20.0
