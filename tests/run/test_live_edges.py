"""Live mode at its edges, on a fake camera: a slow first frame, a camera that goes away, odd camera names."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from tests.helpers import one_error_line, read_csv, run, video_shape

pytestmark = pytest.mark.integration

FAKE = "fake://camera"


class FakeCamera:
    """A webcam as OpenCV opens it: `first_after` seconds before its first frame (a camera warming up), then
    `frames` frames at `fps`; then reads fail, as after a disconnect."""

    def __init__(self, frames: int = 12, fps: float = 30.0, first_after: float = 0.0) -> None:
        self.frames, self.fps, self.first_after, self.sent = frames, fps, first_after, 0
        self.released = threading.Event()

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_FRAME_WIDTH: 64, cv2.CAP_PROP_FRAME_HEIGHT: 48}.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.sent >= self.frames:
            return False, None
        time.sleep(self.first_after if self.sent == 0 else 1 / self.fps)
        self.sent += 1
        return True, np.full((48, 64, 3), 10 * self.sent % 256, np.uint8)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def camera(monkeypatch):
    """Install a FakeCamera that `--camera fake://camera` opens (every other name opens as it would)."""
    real, made = cv2.VideoCapture, {}

    def install(**kwargs) -> FakeCamera:
        made["camera"] = FakeCamera(**kwargs)
        return made["camera"]

    def opened(source, *args):
        return made["camera"] if source == FAKE else real(source, *args)

    monkeypatch.setattr("fervideo.run.live.cv2.VideoCapture", opened)
    return install


def test_the_csv_times_start_with_the_recording_after_a_slow_first_frame(tmp_path, capsys, camera):
    """A webcam's first frame can take a second: the CSV's time_s must be the recording's time, not the wait's."""
    camera(frames=8, fps=30.0, first_after=0.4)
    csv_path, mp4 = tmp_path / "live.csv", tmp_path / "live.mp4"
    code, err = run(capsys, "live", "--camera", FAKE, "--no-window", "--csv", str(csv_path), "--record", str(mp4))
    assert code == 0, err
    times = [float(row["time_s"]) for row in read_csv(csv_path)]
    assert times[0] == 0.0  # the recording's first frame
    count = video_shape(mp4)[0]
    assert abs(count - (round(times[-1] * 30.0) + 1)) <= 1  # the last row's time is the recording's last frame's


@pytest.mark.parametrize("record", [False, True])
def test_a_camera_that_goes_away_ends_the_run_with_its_outputs_and_says_so(tmp_path, capsys, camera, record):
    camera(frames=5)  # then every read fails, as when the webcam is unplugged
    csv_path, mp4 = tmp_path / "live.csv", tmp_path / "live.mp4"
    argv = ["--csv", str(csv_path)] + (["--record", str(mp4)] if record else [])
    code, err = run(capsys, "live", "--camera", FAKE, "--no-window", *argv)
    assert code == 0, err
    assert f"warning: {FAKE} stopped sending frames after 5 shown" in err, err
    assert len({row["frame"] for row in read_csv(csv_path)}) == 5
    assert (tmp_path / "live.json").is_file() and (not record or video_shape(mp4)[0] >= 5)


def test_a_camera_that_stalls_ends_the_run_and_says_so(tmp_path, capsys, camera, monkeypatch):
    monkeypatch.setattr("fervideo.run.live.STALL_SECONDS", 0.5)
    fake = camera(frames=3)
    real_read = fake.read

    def stalled() -> tuple[bool, np.ndarray | None]:
        if fake.sent == 3:
            fake.released.wait(10)  # a stream that stopped sending, until it is let go
        return real_read()

    fake.read = stalled
    csv_path = tmp_path / "live.csv"
    code, err = run(capsys, "live", "--camera", FAKE, "--no-window", "--csv", str(csv_path))
    assert code == 0, err
    assert f"warning: {FAKE} sent no frame for 0.5 s; stopped after 3 shown" in err, err
    assert len({row["frame"] for row in read_csv(csv_path)}) == 3


def test_a_file_played_to_its_end_is_no_warning(capsys, media):
    code, err = run(capsys, "live", "--camera", str(media("single_face.mp4")), "--no-window", "--no-face-features")
    assert code == 0 and "warning" not in err, err


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("99999999999999999999", "no camera at index 99999999999999999999; pass --camera INDEX"),  # past a C long
        ("\u00b2", "\u00b2: cannot open this camera, file or stream"),  # a digit to str.isdigit, not to int()
    ],
)
def test_a_camera_index_opencv_cannot_take_is_one_clear_line(tmp_path, capsys, monkeypatch, name, says):
    monkeypatch.chdir(tmp_path)
    code, err = run(capsys, "live", "--camera", name, "--no-window", "--csv", "live.csv")
    assert code == 1 and one_error_line(err).startswith(f"error: {says}"), err
    assert list(tmp_path.iterdir()) == []


def test_a_second_ctrl_c_while_the_outputs_are_finished_keeps_them(tmp_path, capsys, camera, monkeypatch, plain_ctrl_c):
    """Ctrl-C stops live; pressed twice, the second comes while the files are closed and put in place: what was
    seen is kept all the same, and the exit status says interrupted."""
    import os
    import signal

    from fervideo.run.live_summary import LiveSummary

    camera(frames=4)
    real = LiveSummary.finish

    def interrupted(self, *args) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Python's own handler: a KeyboardInterrupt where it lands
        real(self, *args)

    monkeypatch.setattr(LiveSummary, "finish", interrupted)
    csv_path, mp4 = tmp_path / "live.csv", tmp_path / "live.mp4"
    code, err = run(capsys, "live", "--camera", FAKE, "--no-window", "--csv", str(csv_path), "--record", str(mp4))
    assert code == 130 and "were kept" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.csv", "live.json", "live.mp4"]
    assert len({row["frame"] for row in read_csv(csv_path)}) == 4 and video_shape(mp4)[0] >= 4


@pytest.mark.parametrize("camera_name", ["7", "missing.mp4"])
def test_a_camera_that_does_not_open_leaves_no_folder_behind(tmp_path, capsys, monkeypatch, camera_name):
    monkeypatch.chdir(tmp_path)
    argv = ["--csv", "new/sub/live.csv", "--record", "new/sub/live.mp4"]
    code, err = run(capsys, "live", "--camera", camera_name, "--no-window", *argv)
    assert code == 1 and ("cannot open" in err or "no camera at index 7" in err), err
    assert list(tmp_path.iterdir()) == []  # the folders it made for the outputs went with the failure


def test_the_exports_of_a_camera_link_its_recording(tmp_path, capsys, camera):
    """A camera leaves no file to open: ELAN and BORIS get the recording, whose 0 s is the CSV's."""
    import json

    camera(frames=8)
    csv_path, mp4 = tmp_path / "live.csv", tmp_path / "rec.mp4"
    assert run(capsys, "live", "--camera", FAKE, "--no-window", "--csv", str(csv_path), "--record", str(mp4))[0] == 0
    code, err = run(capsys, "export", str(csv_path), "--format", "eaf,boris")
    assert code == 0, err
    assert 'RELATIVE_MEDIA_URL="./rec.mp4"' in (tmp_path / "live.eaf").read_text()
    project = json.loads((tmp_path / "live.boris").read_text())
    assert "rec.mp4" in json.dumps(project["observations"])
