"""Live mode stopped early: before its first frame nothing a user had is touched; a SIGTERM keeps what was recorded."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fervideo.cli import main
from fervideo.core import signals
from fervideo.core.signals import Stopped
from fervideo.engine.pipeline import Analyzer
from tests.conftest import ROOT, shared_path
from tests.faults import moov_first, mp4_boxes, write_video
from tests.helpers import one_error_line, read_csv, run, video_shape

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """live.csv (30 frames) and live.mp4 from an earlier live run, as a user had them."""
    folder = tmp_path_factory.mktemp("earlier")
    argv = ["live", "--camera", str(shared_path("media", "single_face.mp4")), "--no-window", "--max-frames", "30"]
    assert main([*argv, "--csv", str(folder / "live.csv"), "--record", str(folder / "live.mp4")]) == 0
    assert len({int(r["frame"]) for r in read_csv(folder / "live.csv")}) == 30  # source frame numbers: drops skipped
    return folder


@pytest.fixture
def outputs(tmp_path, earlier):
    """A copy of the earlier files, and the options that would replace them."""
    for name in ("live.csv", "live.mp4"):
        shutil.copy(earlier / name, tmp_path / name)
    return ["--csv", str(tmp_path / "live.csv"), "--record", str(tmp_path / "live.mp4")]


@pytest.fixture
def no_stop_left():
    """No stop left recorded for the next test."""
    yield
    signals.reset()


def contents(folder: Path) -> dict[str, bytes]:
    """Every file in folder, hidden temporaries included, with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def stop_at(monkeypatch, frame: int, signum: int | None) -> None:
    """Analysing frame `frame` is stopped: by a signal as fervideo.entry raises it, or by Python's own Ctrl-C (None)."""
    real, calls = Analyzer.analyze_frame, []

    def stopped(self, image, tracker, time_s):
        calls.append(1)
        if len(calls) == frame + 1:
            if signum is None:
                raise KeyboardInterrupt
            signals.request(signum)
            raise Stopped(signum)
        return real(self, image, tracker, time_s)

    monkeypatch.setattr(Analyzer, "analyze_frame", stopped)


def test_a_clip_that_decodes_no_frame_leaves_the_earlier_files_as_they_were(tmp_path, capsys, media, outputs):
    data = moov_first(media("single_face.mp4").read_bytes())
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(data[: mp4_boxes(data)["mdat"][0]])  # the index, no frame data: opens, decodes nothing
    before = contents(tmp_path)
    code, err = run(capsys, "live", "--camera", str(empty), "--no-window", *outputs)
    line = one_error_line(err)
    assert code == 1 and "no frame" in line and "as they were" in line and "disk full" not in line, line
    assert contents(tmp_path) == before


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_before_the_first_frame_leaves_the_earlier_files_as_they_were(
    tmp_path, capsys, media, outputs, monkeypatch, no_stop_left, signum, code
):
    stop_at(monkeypatch, 0, signum)
    before = contents(tmp_path)
    got, err = run(capsys, "live", "--camera", str(media("single_face.mp4")), "--no-window", *outputs)
    assert got == code and err.strip() == "interrupted; unfinished outputs were removed", err
    assert contents(tmp_path) == before


def test_sigterm_keeps_what_was_recorded_and_exits_143(tmp_path, capsys, media, outputs, monkeypatch, no_stop_left):
    stop_at(monkeypatch, 5, signal.SIGTERM)
    code, err = run(capsys, "live", "--camera", str(media("single_face.mp4")), "--no-window", *outputs)
    assert code == 143 and f"interrupted; the finished results in {tmp_path} were kept" in err, err
    assert len({int(r["frame"]) for r in read_csv(tmp_path / "live.csv")}) == 5  # frames shown before the stop
    assert video_shape(tmp_path / "live.mp4")[0] >= 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.csv", "live.json", "live.mp4"]


def test_ctrl_c_is_still_the_normal_way_to_stop(tmp_path, capsys, media, outputs, monkeypatch):
    stop_at(monkeypatch, 5, None)
    code, err = run(capsys, "live", "--camera", str(media("single_face.mp4")), "--no-window", *outputs)
    assert code == 0 and "5 frames shown" in err, err
    assert len({int(r["frame"]) for r in read_csv(tmp_path / "live.csv")}) == 5  # frames shown before the stop


def test_a_real_sigterm_to_the_console_script(tmp_path):
    clip = write_video(tmp_path / "long.mp4", frames=600, fps=10.0)  # a minute at its own pace: never ends first
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fervideo", "live", "--camera", str(clip), "--no-window", "--csv", str(out / "l.csv")],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # model loading on a loaded machine
        while not any(out.glob(".l.*partial*")):  # the CSV opens once the model is loaded and the clip plays
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
            time.sleep(0.1)
        time.sleep(3)  # about 30 frames; the rows stay in the writer's buffer until the end
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143 and "Traceback" not in err, err
    assert err.strip().startswith(f"interrupted; the finished results in {out} were kept"), err
    assert len(read_csv(out / "l.csv")) >= 1
    assert sorted(p.name for p in out.iterdir()) == ["l.csv", "l.json"]


def test_a_fifo_that_takes_the_csv_name_during_the_run_is_left_alone(tmp_path, capsys, media, monkeypatch):
    import os

    real, csv = Analyzer.analyze_frame, tmp_path / "live.csv"

    def fifo_meanwhile(self, image, tracker, time_s):
        if not csv.exists():
            os.mkfifo(csv)  # after the command line checked the name: only the commit can still see it
        return real(self, image, tracker, time_s)

    monkeypatch.setattr(Analyzer, "analyze_frame", fifo_meanwhile)
    argv = ["--camera", str(media("single_face.mp4")), "--no-window", "--max-frames", "3", "--csv", str(csv)]
    code, err = run(capsys, "live", *argv, "--record", str(tmp_path / "live.mp4"))
    assert code == 1 and f"{csv} is a FIFO, not a file" in one_error_line(err), err
    assert csv.is_fifo() and [p.name for p in tmp_path.iterdir()] == ["live.csv"]  # the video neither: one group
