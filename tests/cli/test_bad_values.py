"""Values that used to end in an "internal error" line: each now gets one line naming the value (issue 33, item 17)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


@pytest.fixture
def loop(tmp_path):
    """loop -> loop2 -> loop: a symbolic link that leads back to itself."""
    (tmp_path / "loop").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop")
    return tmp_path / "loop"


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{loop}", "-o", "{out}"],
        ["analyze", str(SAMPLE), "-o", "{loop}"],
        ["analyze", str(SAMPLE), "-o", "{loop}/deeper"],
        ["batch", "{loop}", "-o", "{out}"],
        ["live", "--camera", str(SAMPLE), "--no-window", "--max-frames", "2", "--csv", "{loop}"],
        ["live", "--camera", str(SAMPLE), "--no-window", "--max-frames", "2", "--record", "{loop}"],
        ["report", "{loop}"],
        ["export", "{loop}", "--format", "eaf"],
    ],
    ids=["input", "-o", "-o inside", "batch", "live --csv", "live --record", "report", "export"],
)
def test_a_symbolic_link_loop_is_one_usage_line(tmp_path, loop, capsys, argv):
    out = tmp_path / "out"
    code, err = run(capsys, *(a.format(loop=loop, out=out) for a in argv))
    line = one_error_line(err)
    assert code == 2 and "loop" in line and "leads back to itself" in line, line
    assert not out.exists()


def test_a_nul_in_a_path_is_one_usage_line(tmp_path, capsys):
    code, err = run(capsys, "analyze", "clip\0.mp4", "-o", str(tmp_path / "out"))
    assert code == 2 and "cannot hold a NUL character" in one_error_line(err)


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_batch_with_absurdly_many_workers_says_so(tmp_path, capsys, engine):
    argv = ["batch", str(SAMPLE.parent), "-o", str(tmp_path), "--workers", "99999999999999999999", "--engine", engine]
    code, err = run(capsys, *argv)
    line = one_error_line(err)
    assert code == 2 and "--workers 99999999999999999999: at most 1024" in line, line
    assert list(tmp_path.iterdir()) == []


def test_batch_starts_no_more_workers_than_inputs(tmp_path, capsys, monkeypatch):
    from fervideo.run import batch

    sizes = []
    real = batch.LocalEngine.__init__

    def sized(self, workers):
        sizes.append(workers)
        real(self, workers)

    monkeypatch.setattr(batch.LocalEngine, "__init__", sized)
    code, err = run(capsys, "batch", str(SAMPLE.parent), "-o", str(tmp_path), "--workers", "1024", "--no-video", "-q")
    assert code == 0, err
    assert sizes == [1]  # samples/ holds one video


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{long}.mp4", "-o", "{out}"],
        ["analyze", str(SAMPLE), "-o", "{long}"],
        ["batch", "{long}", "-o", "{out}"],
        ["report", "{long}/x.csv"],
    ],
    ids=["input", "-o", "batch", "report"],
)
def test_a_name_too_long_for_any_file_system_is_one_usage_line(tmp_path, capsys, argv):
    out, long = tmp_path / "out", tmp_path / ("a" * 300)  # 255 bytes is the most ext4, XFS, btrfs and tmpfs allow
    code, err = run(capsys, *(a.format(long=long, out=out) for a in argv))
    assert code == 2 and "too long for a file system" in one_error_line(err)
    assert not out.exists() and not os.path.exists(long)  # Path.exists raises ENAMETOOLONG before 3.12
