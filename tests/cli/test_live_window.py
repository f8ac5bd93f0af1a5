"""live on an OpenCV without a GUI (opencv-python-headless, what fervideo installs): one line that says what to do."""

from __future__ import annotations

from fervideo.cli.live import has_windows
from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


def test_live_on_a_headless_opencv_says_how_to_get_a_window(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("fervideo.cli.live.has_windows", lambda: False)
    code, err = run(capsys, "live", "--camera", str(SAMPLE), "--max-frames", "1", "--csv", str(tmp_path / "l.csv"))
    line = one_error_line(err)
    assert code == 2 and "opens no window: use --no-window" in line and "pip install opencv-python" in line
    assert not (tmp_path / "l.csv").exists()


def test_the_build_information_tells_whether_opencv_has_windows(monkeypatch):
    import cv2

    monkeypatch.setattr(cv2, "getBuildInformation", lambda: "  Video I/O:\n  GUI:                           NONE\n")
    assert not has_windows()
    monkeypatch.setattr(cv2, "getBuildInformation", lambda: "  GUI:                           QT5\n")
    assert has_windows()
