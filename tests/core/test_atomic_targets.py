"""A commit renames over regular files only: a device, a FIFO or a folder under an output's name is left alone."""

from __future__ import annotations

import os
import stat

import pytest

from fervideo.core import atomic
from fervideo.core.errors import OutputError
from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


def identity(path):
    """What must not change: the kind, the inode and the device a name stands for."""
    info = os.lstat(path)
    return info.st_mode, info.st_ino, info.st_rdev


def special(tmp_path, kind: str):
    """An output name that holds something other than a regular file."""
    path = tmp_path / "clip.csv"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
        (path / "mine.txt").write_text("keep")
    elif kind == "link to /dev/null":
        path.symlink_to("/dev/null")
    else:  # a device node, which only root can make
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


KINDS = ["fifo", "folder", "link to /dev/null", "device"]
DEVICE = "a character device"
SAID = {"fifo": "a FIFO", "folder": "a directory", "link to /dev/null": DEVICE, "device": DEVICE}


@pytest.mark.parametrize("kind", KINDS)
def test_a_group_commit_refuses_before_anything_moves(tmp_path, kind):
    target = special(tmp_path, kind)
    (tmp_path / "clip.json").write_text("old")
    before = identity(target)
    staged = []
    for name in ("clip.csv", "clip.json"):
        output = atomic.AtomicOutput(tmp_path / name)
        output.tmp.write_text("new")
        staged.append(output)
    with pytest.raises(OutputError, match=f"clip.csv is {SAID[kind]}, not a file"):
        atomic.commit_group(staged)
    assert identity(target) == before and (tmp_path / "clip.json").read_text() == "old"
    if kind == "folder":
        assert (target / "mine.txt").read_text() == "keep"
    for output in staged:
        output.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.csv", "clip.json"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_single_file_commit_refuses_too(tmp_path, kind):
    target = special(tmp_path, kind)
    before = identity(target)
    with pytest.raises(OutputError, match=f"is {SAID[kind]}"):
        atomic.write_bytes(target, b"new")
    assert identity(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["clip.csv"]


def test_a_regular_file_a_link_to_one_and_a_dangling_link_are_fine(tmp_path):
    (tmp_path / "real.csv").write_text("old")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    for name in ("real.csv", "link.csv", "dangling.csv", "new.csv"):
        assert atomic.special_kind(tmp_path / name) is None
        atomic.write_bytes(tmp_path / name, b"new")
        assert (tmp_path / name).read_bytes() == b"new"


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_analyze_leaves_a_fifo_or_folder_under_an_output_name_alone(tmp_path, capsys, kind):
    out = tmp_path / "out"
    argv = ["analyze", str(SAMPLE), "-o", str(out), "--no-video", "--every", "10"]
    assert run(capsys, *argv)[0] == 0
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "demo.csv").unlink()  # the name stays an earlier run's own: only what is there now changed
    target = special(out, kind).rename(out / "demo.csv")
    before = identity(target)
    code, err = run(capsys, *argv)
    assert code == 1 and f"demo.csv is {SAID[kind]}, not a file" in one_error_line(err), err
    assert identity(target) == before
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "demo.csv"} == {
        name: data for name, data in earlier.items() if name != "demo.csv"
    }  # the rest of the earlier result as it was, nothing hidden left
