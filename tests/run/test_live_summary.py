"""`live --csv` writes analyze's JSON beside its CSV, so that report and export take it, and its `frame` column is
the source's own frame number, frames dropped while the model worked skipped (issue 33, item 23)."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest

from fervideo.engine.pipeline import Analyzer
from tests.faults import assert_one_error, run
from tests.helpers import read_csv

pytestmark = pytest.mark.integration


def test_live_csv_comes_with_a_json_that_report_and_export_take(tmp_path, capfd, media, monkeypatch):
    clip, seen = media("single_face.mp4"), []
    real = Analyzer.analyze_frame

    def slow(self, image, tracker, time_s):  # every 4th frame takes long enough that the reader drops some
        seen.append(float(image.mean()))
        if len(seen) % 4 == 0:
            time.sleep(0.15)
        return real(self, image, tracker, time_s)

    monkeypatch.setattr(Analyzer, "analyze_frame", slow)
    csv_path = tmp_path / "live.csv"
    code, err = run(capfd, "live", "--camera", clip, "--no-window", "--max-frames", "24", "--csv", csv_path)
    assert code == 0, err
    summary = json.loads((tmp_path / "live.json").read_text())
    assert summary["input"]["absolute_path"] == str(clip.resolve()) and summary["input"]["live"] is True
    assert summary["files"] == ["live.csv", "live.json"] and summary["counts"]["frames_analysed"] == 24
    frames = [int(row["frame"]) for row in read_csv(csv_path) if row["face_id"] or not row["x"]]
    frames = list(dict.fromkeys(frames))
    assert len(frames) == 24 and frames == sorted(frames) and frames[-1] > 23  # some were dropped, and skipped
    capture = cv2.VideoCapture(str(clip))
    source = []
    while len(source) <= frames[-1]:
        ok, image = capture.read()
        assert ok
        source.append(float(image.mean()))
    capture.release()
    assert np.allclose([source[f] for f in frames], seen)  # each row's frame is the one that was analysed

    code, err = run(capfd, "report", csv_path)
    assert code == 0, err
    code, err = run(capfd, "export", csv_path, "--format", "eaf,boris")
    assert code == 0, err
    summary = json.loads((tmp_path / "live.json").read_text())
    assert {"live.report.html", "live.eaf", "live.boris", "live.face1.tsv"} <= set(summary["files"])

    # a rerun replaces that result as a whole: the report and exports of the old CSV go with it
    code, err = run(capfd, "live", "--camera", clip, "--no-window", "--max-frames", "3", "--csv", csv_path, "-q")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.csv", "live.json"]


def test_a_stream_that_is_no_file_says_so_in_the_report(tmp_path, capfd):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(6):
        assert cv2.imwrite(str(frames / f"{i:03d}.png"), np.full((48, 64, 3), 40 * i, np.uint8))
    camera, csv_path = str(frames / "%03d.png"), tmp_path / "out.csv"
    code, err = run(capfd, "live", "--camera", camera, "--no-window", "--csv", csv_path, "-q")
    assert code == 0, err
    info = json.loads((tmp_path / "out.json").read_text())["input"]
    assert info["camera"] is True and info["absolute_path"] == camera
    rows = read_csv(csv_path)
    assert all(float(row["time_s"]) >= 0 for row in rows)  # the first frame may be caught before the loop starts
    frames = [int(row["frame"]) for row in rows]
    assert frames[-1] == 5 and frames == sorted(set(frames))  # read as fast as it comes: only the newest shown
    code, err = run(capfd, "report", csv_path)
    assert code == 0 and "was live, not a file; the report has no face pictures" in err, err


def test_a_users_own_json_at_the_summarys_name_stops_live_before_it_starts(tmp_path, capfd, media):
    mine = tmp_path / "live.json"
    mine.write_text('{"mine": true}\n')
    csv_path = tmp_path / "live.csv"
    code, err = run(capfd, "live", "--camera", media("single_face.mp4"), "--no-window", "--csv", csv_path)
    assert code == 1
    assert_one_error(err, "live.json is in the way", "give --csv another name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.json"] and mine.read_text() == '{"mine": true}\n'


@pytest.mark.parametrize(
    ("csv", "record", "says"),
    [("x.json", None, "which --csv or --record names"), ("x.csv", "x.json", "which --csv or --record names")],
)
def test_live_refuses_a_csv_whose_json_would_be_itself_or_the_recording(tmp_path, capfd, csv, record, says):
    argv = ["--csv", tmp_path / csv] + (["--record", tmp_path / record] if record else [])
    code, err = run(capfd, "live", "--camera", "0", "--no-window", *argv)
    assert code == 2
    assert_one_error(err, says)
    assert list(tmp_path.iterdir()) == []


def test_live_reads_a_face_again_only_when_it_changes_unless_asked_for_every_frame(tmp_path, capfd, media):
    """Live runs analyze's adaptive mode on its newest frames, and says so in its JSON; --every-frame reads all."""
    work = {}
    for extra in ([], ["--every-frame"]):
        csv_path = tmp_path / f"live{len(extra)}.csv"
        code, err = run(capfd, "live", "--camera", media("single_face.mp4"), "--no-window", "--csv", csv_path, *extra)
        assert code == 0, err
        assert any(row["face_id"] and row["emotion"] and row["yaw"] for row in read_csv(csv_path))
        work[bool(extra)] = json.loads(csv_path.with_suffix(".json").read_text())["processing"]
    adaptive, every = work[False], work[True]
    assert adaptive["mode"] == "adaptive" and adaptive["faces_carried"] > 0 and adaptive["searches_skipped"] > 0
    assert every["mode"] == "every-frame" and every["faces_carried"] == 0 and every["searches_skipped"] == 0
