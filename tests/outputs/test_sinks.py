"""fervideo.outputs.sinks: CSV and video writers that take their final name only when complete."""

import csv
import signal

import cv2
import numpy as np
import pytest

from fervideo.core.atomic import prepare_out_dir
from fervideo.core.errors import OutputError
from fervideo.core.frames import FrameResult
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.sinks import CSV_HEADER, CsvSink, ImageSink, VideoSink
from tests.helpers import faces

# the 17 columns of the first release, then valence, then the face mesh's 9
HEADER = (
    "frame,time_s,face_id,x,y,w,h,face_score,emotion,confidence,angry,disgust,fear,happy,sad,surprise,neutral,valence"
    ",yaw,pitch,roll,eye_open_left,eye_open_right,mouth_open,gaze_yaw,gaze_pitch,looking_at_camera"
)


def result(index, n_faces, analysed=True, fps=25.0):
    return FrameResult(index, index / fps, None, analysed, faces(n_faces, seed=index))


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def no_partials(folder):
    return [p.name for p in folder.iterdir() if ".partial" in p.name]


# --- CSV -----------------------------------------------------------------------------------------


def test_csv_header_constant():
    assert ",".join(CSV_HEADER) == HEADER


def test_csv_rows(tmp_path):
    final = tmp_path / "out.csv"
    with CsvSink(final) as sink:
        sink.write(result(0, 2))
        sink.write(result(1, 2, analysed=False))  # carried-forward faces: no rows
        sink.write(result(2, 0))  # analysed, nobody there: one bare row
        sink.write(result(3, 1))
    lines = final.read_text().splitlines()
    assert lines[0] == HEADER
    rows = read_rows(final)[1:]
    assert [r[0] for r in rows] == ["0", "0", "2", "3"]
    assert all(len(r) == len(CSV_HEADER) for r in rows)

    bare = rows[2]
    assert bare[:2] == ["2", f"{2 / 25:.4f}"] and all(v == "" for v in bare[2:])

    expected = faces(2, seed=0)
    for i, row in enumerate(rows[:2]):
        record = dict(zip(CSV_HEADER, row, strict=True))
        assert float(record["time_s"]) == 0.0
        assert int(record["face_id"]) == expected.tracker_id[i]
        x0, y0, x1, y1 = expected.xyxy[i]
        assert [int(record[k]) for k in ("x", "y", "w", "h")] == [x0, y0, x1 - x0, y1 - y0]
        assert float(record["face_score"]) == pytest.approx(expected.confidence[i], abs=1e-4)
        probs = np.array([float(record[e]) for e in EMOTIONS])
        assert probs.sum() == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(probs, expected.probs[i], atol=1e-6)
        assert record["emotion"] == EMOTIONS[int(np.argmax(probs))]
        assert float(record["confidence"]) == pytest.approx(probs.max(), abs=1e-4)
    assert no_partials(tmp_path) == []


def test_csv_only_unanalysed_frames_gives_header_only(tmp_path):
    final = tmp_path / "out.csv"
    with CsvSink(final) as sink:
        for i in range(5):
            sink.write(result(i, 1, analysed=False))
    assert final.read_text().splitlines() == [HEADER]


def test_csv_final_file_appears_only_at_end(tmp_path):
    final = tmp_path / "out.csv"
    with CsvSink(final) as sink:
        sink.write(result(0, 1))
        assert not final.exists()
        assert sink.tmp.exists() and sink.tmp.parent == tmp_path
        assert sink.tmp.name != final.name
    assert final.exists() and not sink.tmp.exists()


def test_csv_replaces_older_result(tmp_path):
    final = tmp_path / "out.csv"
    final.write_text("old\n")
    with CsvSink(final) as sink:
        sink.write(result(0, 1))
    assert final.read_text().splitlines()[0] == HEADER


def test_csv_exception_leaves_nothing(tmp_path):
    final = tmp_path / "out.csv"
    with pytest.raises(RuntimeError, match="boom"), CsvSink(final) as sink:
        sink.write(result(0, 1))
        raise RuntimeError("boom")
    assert not final.exists() and not sink.tmp.exists()
    assert list(tmp_path.iterdir()) == []


def test_csv_exception_keeps_older_result(tmp_path):
    final = tmp_path / "out.csv"
    final.write_text("old\n")
    with pytest.raises(KeyboardInterrupt), CsvSink(final):
        raise KeyboardInterrupt
    assert final.read_text() == "old\n"
    assert no_partials(tmp_path) == []


# --- video ---------------------------------------------------------------------------------------


def test_video_sink_round_trip(tmp_path):
    final = tmp_path / "out.mp4"
    width, height, count = 64, 48, 12
    with VideoSink(final, 10.0, width, height) as sink:
        for i in range(count):
            sink.write(np.full((height, width, 3), i * 20, np.uint8))
        assert not final.exists()
        assert sink.written == count
    assert final.exists() and no_partials(tmp_path) == []
    capture = cv2.VideoCapture(str(final))
    assert capture.isOpened()
    assert int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == width
    assert int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == height
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(10.0)
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded.append(frame)
    capture.release()
    assert len(decoded) == count
    assert abs(float(decoded[5].mean()) - 100) < 10


def test_video_sink_rejects_wrong_size(tmp_path):
    with pytest.raises(OutputError, match="does not fit"), VideoSink(tmp_path / "out.mp4", 10.0, 64, 48) as sink:
        sink.write(np.zeros((64, 48, 3), np.uint8))  # transposed
    assert list(tmp_path.iterdir()) == []


def test_video_sink_exception_leaves_nothing(tmp_path):
    final = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), VideoSink(final, 10.0, 32, 32) as sink:
        sink.write(np.zeros((32, 32, 3), np.uint8))
        raise RuntimeError("stop")
    assert not final.exists() and not sink.tmp.exists()
    assert list(tmp_path.iterdir()) == []


def test_video_sink_failed_check_leaves_nothing(tmp_path):
    final = tmp_path / "out.mp4"
    with pytest.raises(OutputError, match="stored 1 of 2 frames"), VideoSink(final, 10.0, 32, 32) as sink:
        sink.write(np.zeros((32, 32, 3), np.uint8))
        sink.written += 1  # as if the writer had silently dropped a frame (a full disk)
    assert list(tmp_path.iterdir()) == []


def test_video_sink_bad_folder(tmp_path):
    with pytest.raises(OutputError) as info:
        VideoSink(tmp_path / "missing-dir" / "out.mp4", 10.0, 32, 32)
    assert "out.mp4" in str(info.value)


# --- image and JSON ------------------------------------------------------------------------------


def test_image_sink(tmp_path):
    final = tmp_path / "out.png"
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    with ImageSink(final) as sink:
        sink.write(image)
        assert not final.exists()
    np.testing.assert_array_equal(cv2.imread(str(final)), image)
    assert no_partials(tmp_path) == []


def test_prepare_out_dir_creates_nested(tmp_path):
    out = prepare_out_dir(tmp_path / "a" / "b")
    assert out.is_dir() and list(out.iterdir()) == []  # the probe file is gone


def test_prepare_out_dir_existing(tmp_path):
    assert prepare_out_dir(str(tmp_path)) == tmp_path


def test_prepare_out_dir_under_regular_file(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError) as info:
        prepare_out_dir(blocker / "out")
    assert str(blocker / "out") in str(info.value)
    with pytest.raises(OutputError):
        prepare_out_dir(blocker)  # the path itself is a file


class _StopAfterWrite:
    """A video writer whose frame lands, then a Ctrl-C arrives before the sink could count it.

    The Ctrl-C is the installed handler called at once, as Python calls it for a signal. The test asks for Python's
    own handler (plain_ctrl_c): an earlier test may leave fervideo.entry's, with a stop recorded, which then takes
    a second one quietly ("DID NOT RAISE" on CI).
    """

    def __init__(self, writer):
        self.writer = writer

    def write(self, frame):
        self.writer.write(frame)
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)

    def release(self):
        self.writer.release()


def test_a_stop_right_after_a_frame_is_written_still_counts_it(tmp_path, plain_ctrl_c):
    """A stop at that moment once made close() report 121 of 120 frames and blame a full disk (issue 33, stops)."""
    sink = VideoSink(tmp_path / "v.mp4", 10.0, 64, 48)
    frame = np.zeros((48, 64, 3), np.uint8)
    sink.write(frame)
    sink._writer = _StopAfterWrite(sink._writer)
    with pytest.raises(KeyboardInterrupt):
        sink.write(frame)
    assert sink.written == 2
    sink.close()  # the two frames are in the file: no "disk full?"
    sink.commit()
    assert (tmp_path / "v.mp4").is_file()
