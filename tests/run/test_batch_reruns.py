"""Batch reruns and inputs: its own folder, shared stems, changed options, long names, dying workers."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SAMPLE
from tests.helpers import run


def test_batch_into_its_own_folder_finds_the_inputs_and_not_its_outputs(tmp_path, capsys):
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(SAMPLE, tmp_path / name)
    code, err = run(capsys, "batch", str(tmp_path), "-o", str(tmp_path), "--every", "15", "--workers", "1")
    assert code == 0 and "2 ok, 0 skipped, 0 failed" in err, err
    assert (tmp_path / "a.annotated.mp4").is_file() and (tmp_path / "b.json").is_file()
    code, err = run(capsys, "batch", str(tmp_path), "-o", str(tmp_path), "--every", "15", "--glob", "*")
    assert code == 0 and "0 ok, 2 skipped, 0 failed" in err, err  # outputs and the index are not inputs


def test_a_batch_of_links_to_files_kept_elsewhere_reruns(tmp_path, capsys):
    """The index's inputs are the links in the folder; their targets lie outside it, and that is no other batch."""
    folder, store = tmp_path / "in", tmp_path / "store"
    folder.mkdir()
    store.mkdir()
    shutil.copy(SAMPLE, store / "a.mp4")
    (folder / "a.mp4").symlink_to(store / "a.mp4")
    argv = ["batch", str(folder), "-o", str(tmp_path / "out"), "--every", "15", "--no-video", "--workers", "1"]
    code, err = run(capsys, *argv)
    assert code == 0 and "1 ok" in err, err
    code, err = run(capsys, *argv)
    assert code == 0 and "0 ok, 1 skipped" in err, err


def test_batch_inputs_with_one_stem_each_get_their_own_outputs(tmp_path, capsys):
    from tests.helpers import read_json

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "clip.mp4")
    shutil.copy(SAMPLE, folder / "clip.mov")
    shutil.copy(SAMPLE, folder / "other.mp4")
    out = tmp_path / "out"
    argv = ["batch", str(folder), "-o", str(out), "--every", "15", "--no-video", "--workers", "1"]
    code, err = run(capsys, *argv)
    assert code == 0 and "3 ok" in err, err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "clip.mov.csv",
        "clip.mov.episodes.csv",
        "clip.mov.json",
        "clip.mp4.csv",
        "clip.mp4.episodes.csv",
        "clip.mp4.json",
        "index.csv",
        "other.csv",
        "other.episodes.csv",
        "other.json",
    ]
    assert read_json(out / "clip.mov.json")["input"]["path"].endswith("clip.mov")
    code, err = run(capsys, *argv)
    assert code == 0 and "0 ok, 3 skipped" in err, err  # a rerun finds each input's own outputs


def test_a_batch_rerun_with_other_options_redoes_the_inputs_and_force_redoes_all(tmp_path, capsys):
    from tests.helpers import read_json

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "clip.mp4")
    out = tmp_path / "out"
    base = ["batch", str(folder), "-o", str(out), "--no-video", "--workers", "1"]
    assert run(capsys, *base, "--every", "15")[0] == 0
    code, err = run(capsys, *base, "--every", "15", "--batch-size", "8")  # nothing that changes a result
    assert code == 0 and "0 ok, 1 skipped" in err, err
    code, err = run(capsys, *base, "--every", "30")
    assert code == 0 and "1 ok, 0 skipped" in err, err
    assert read_json(out / "clip.json")["counts"]["frames_analysed"] == 5  # the results of the new options
    code, err = run(capsys, *base, "--every", "30", "--force")
    assert code == 0 and "1 ok, 0 skipped" in err, err


def test_names_up_to_the_file_system_limit_are_analysed(tmp_path, capsys):
    from fervideo.core.atomic import NAME_MAX, partial_name

    stem = "é" * 118  # 236 bytes: with ".annotated.mp4" the output is 250, under 255; temporary names shrink
    clip = tmp_path / f"{stem}.mp4"
    shutil.copy(SAMPLE, clip)
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path / "out"), "--every", "30")
    assert code == 0, err
    assert (tmp_path / "out" / f"{stem}.annotated.mp4").is_file() and (tmp_path / "out" / f"{stem}.json").is_file()
    name = partial_name(f"{stem}.annotated.mp4")
    assert len(name.encode()) <= NAME_MAX and name.startswith(".é") and name.endswith(".partial.mp4")


def test_batch_start_leaves_the_temporary_files_of_a_running_analyze(tmp_path, capsys):
    import os

    out = tmp_path / "out"
    out.mkdir()
    mine = out / f".clip.{os.getpid()}-0123abcd.partial.csv"  # what this very process is still writing
    mine.write_text("in progress")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "other.mp4")
    assert run(capsys, "batch", str(folder), "-o", str(out), "--no-video", "--every", "30", "--workers", "1")[0] == 0
    assert mine.read_text() == "in progress"


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/task").is_dir(), reason="finds workers in /proc")
@pytest.mark.parametrize(("retries", "code", "ok"), [("1", 0, 2), ("0", 1, 1)])
def test_a_worker_killed_mid_batch_is_retried_or_recorded(tmp_path, retries, code, ok):
    import csv
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.conftest import ROOT

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(SAMPLE, folder / name)
    argv = [sys.executable, "-m", "fervideo", "batch", str(folder), "-o", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen([*argv, "--retries", retries], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(".partial" in p.name for p in out.iterdir())):  # a worker is writing
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    tasks = (Path("/proc") / str(proc.pid) / "task").glob("*")
    kids = [int(c) for task in tasks for c in (task / "children").read_text().split()]
    workers = [c for c in kids if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)  # as the OOM killer would
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == code and "Traceback" not in err and "internal error" not in err, err
    with open(out / "index.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(Path(r["input"]).name for r in rows) == ["a.mp4", "b.mp4"]
    assert sum(r["status"] == "ok" for r in rows) == ok
    assert all("worker process died" in r["error"] for r in rows if r["status"] == "failed")
