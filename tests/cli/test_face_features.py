"""`fervideo analyze` with the face mesh (the default) and with --no-face-features, on real clips."""

from __future__ import annotations

import pytest

from fervideo.core.detections import FACE_FEATURES
from tests.conftest import SAMPLE
from tests.helpers import read_csv, read_json, run

pytestmark = pytest.mark.integration
RANGES = {"yaw": 90, "pitch": 90, "roll": 180, "gaze_yaw": 90, "gaze_pitch": 90}  # degrees either side of 0


def test_features_in_the_csv_and_json(tmp_path, capsys, media):
    """Every face row has the 9 columns, in range; single_face.mp4's one blink (counted by hand) is in the JSON."""
    code, err = run(capsys, "analyze", str(media("single_face.mp4")), "-o", str(tmp_path), "--no-video")
    assert code == 0, err
    rows = [r for r in read_csv(tmp_path / "single_face.csv") if r["face_id"]]
    assert len(rows) == 72
    for row in rows:
        for name in FACE_FEATURES:
            value = float(row[name])
            limit = RANGES.get(name)
            assert (-limit <= value <= limit) if limit else 0 <= value <= 1, (name, value)
        assert row["looking_at_camera"] in ("0", "1")
    (track,) = read_json(tmp_path / "single_face.json")["tracks"]
    features = track["face_features"]
    assert features["blinks"] == 1 and 0.8 <= features["blink_times_s"][0] <= 0.95  # frames 25-28 at 30 fps
    assert features["blinks_per_minute"] == pytest.approx(60 / track["seconds"], rel=0.01)
    assert features["looking_at_camera_share"] > 0.9


def test_no_face_features_leaves_the_columns_empty(tmp_path, capsys):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--no-video", "--no-face-features")
    assert code == 0, err
    rows = [r for r in read_csv(tmp_path / "demo.csv") if r["face_id"]]
    assert rows and all(r[name] == "" for r in rows for name in FACE_FEATURES)
    assert all(t["face_features"] is None for t in read_json(tmp_path / "demo.json")["tracks"])
