"""Live mode driven by a video file in place of a camera, headless."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fervideo.cli import main
from fervideo.run.live import LatestFrameReader
from tests.helpers import check_probabilities, read_csv, video_shape

pytestmark = pytest.mark.integration


def test_live_on_a_file_writes_csv_and_prints_latency(tmp_path, capsys, media):
    out_csv, out_mp4 = tmp_path / "live.csv", tmp_path / "live.mp4"
    code = main(
        [
            "live",
            "--camera",
            str(media("single_face.mp4")),
            "--no-window",
            "--max-frames",
            "50",
            "--csv",
            str(out_csv),
            "--record",
            str(out_mp4),
            "--smooth",
            "0.5",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0
    rows = read_csv(out_csv)
    frames = sorted({int(r["frame"]) for r in rows})
    assert len(frames) == 50 and frames[-1] >= 49  # the source's frame numbers: a dropped one is skipped
    assert sum(1 for r in rows if r["face_id"]) >= 45  # the face is in every frame; the first may await confirmation
    check_probabilities(rows)
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and 0 < times[-1] < 10  # wall clock since start
    count, width, height = video_shape(out_mp4)
    # the recording keeps the camera's pace: on a loaded machine a frame shown late is held, so a few repeat
    assert (width, height) == (640, 360) and 50 <= count <= 100
    match = re.search(r"(\d+) frames shown, (\d+) dropped; latency p50 ([\d.]+) ms, p95 ([\d.]+) ms", err)
    assert match, err
    assert int(match[1]) == 50 and float(match[3]) <= float(match[4])


def test_missing_camera_is_one_clear_line(capsys):
    code = main(["live", "--camera", "7", "--no-window", "--max-frames", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err == "error: no camera at index 7; pass --camera INDEX, a video file or a stream URL"


def test_reader_keeps_only_the_newest_frame(media):
    reader = LatestFrameReader(str(media("single_face.mp4")))
    try:
        first = reader.latest()
        import time

        time.sleep(0.5)  # about 15 frames arrive meanwhile; only the newest is kept
        second = reader.latest()
        assert second[0] - first[0] >= 10
        assert reader.dropped >= 9
        assert isinstance(second[2], np.ndarray) and second[2].shape == (360, 640, 3)
    finally:
        reader.close()


def test_a_read_that_stalls_is_never_released_under_it():
    import threading
    import time

    from tests.conftest import SAMPLE

    class Stalled:
        def __init__(self) -> None:
            self.reading, self.resume, self.released = threading.Event(), threading.Event(), False

        def read(self):
            self.reading.set()
            self.resume.wait(10)  # a stream that stopped sending
            return False, None

        def release(self) -> None:
            self.released = True

    reader = LatestFrameReader(str(SAMPLE))
    real, stalled = reader.capture, Stalled()
    reader.capture = stalled
    assert stalled.reading.wait(5)
    tic = time.perf_counter()
    reader.close()
    assert time.perf_counter() - tic < 5 and not stalled.released  # no hang, and no release under the read
    stalled.resume.set()
    reader._thread.join(5)
    real.release()
