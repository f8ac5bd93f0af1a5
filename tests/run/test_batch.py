"""Batch over a folder: real inputs and bad ones, resume after a normal run and after SIGKILL, and Ray."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fervideo.cli import main
from fervideo.core.layout import OutputOptions
from fervideo.run.batch import Job, find_inputs, is_complete, plan, remove_partials
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration


def read_index(out: Path) -> dict[str, dict]:
    with open(out / "index.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys()) == [
        "input",
        "status",
        "frames",
        "faces",
        "dominant_emotion",
        "seconds",
        "error",
        "outputs",
    ]
    return {Path(r["input"]).relative_to(out.parent / "in").as_posix(): r for r in rows}


@pytest.fixture
def folder(tmp_path, media):
    """Good clips, a same-named copy in a subfolder, and three bad files."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(media("single_face.mp4"), src / "single_face.mp4")
    shutil.copy(media("single_face.mp4"), src / "sub" / "single_face.mp4")
    shutil.copy(media("no_face.mp4"), src / "no_face.mp4")
    shutil.copy(SAMPLE, src / "sub" / "demo.mp4")
    data = media("single_face.mp4").read_bytes()
    (src / "corrupt.mp4").write_bytes(data[: len(data) // 20] + bytes(len(data) // 3))
    (src / "empty.mp4").write_bytes(b"")
    (src / "notes.mp4").write_text("not a video\n")
    return src


GOOD = ["demo", "no_face", "single_face"]
GOOD_FILES = ["no_face.mp4", "single_face.mp4", "sub/demo.mp4", "sub/single_face.mp4"]
BAD_FILES = ["corrupt.mp4", "empty.mp4", "notes.mp4"]


def batch(capsys, folder: Path, out: Path, *extra: str) -> tuple[int, str]:
    code = main(["batch", str(folder), "-o", str(out), "--recursive", "--no-video", "--quiet", *extra])
    return code, capsys.readouterr().err


def test_batch_survives_bad_files_and_resumes(folder, tmp_path, capsys):
    out = tmp_path / "out"
    code, _ = batch(capsys, folder, out, "--workers", "2")
    assert code == 1
    index = read_index(out)
    assert sorted(index) == sorted(GOOD_FILES + BAD_FILES)
    assert all(index[name]["status"] == "ok" for name in GOOD_FILES)
    for name in BAD_FILES:
        row = index[name]
        assert row["status"] == "failed" and row["error"] and "\n" not in row["error"]
    assert index["single_face.mp4"]["frames"] == "72" and index["single_face.mp4"]["dominant_emotion"]
    # mirrored subfolders: equal names never collide
    assert (out / "single_face.json").is_file() and (out / "sub" / "single_face.json").is_file()
    assert not list(out.rglob(".*partial*"))

    code, _ = batch(capsys, folder, out, "--workers", "2")
    assert code == 1  # the bad files fail again
    again = read_index(out)
    assert all(again[name]["status"] == "skipped" for name in GOOD_FILES)
    assert again["single_face.mp4"]["frames"] == "72"


def test_everything_ok_exits_0(tmp_path, capsys, media):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(media("single_face.mp4"), src / "a.mp4")
    code, _ = batch(capsys, src, tmp_path / "out")
    assert code == 0
    assert read_index(tmp_path / "out")["a.mp4"]["status"] == "ok"


def test_missing_folder_is_a_usage_error(tmp_path, capsys):
    code, err = batch(capsys, tmp_path / "nope", tmp_path / "out")
    assert code == 2 and err.strip().startswith("error:")


def test_find_inputs_glob_and_output_exclusion(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("x.mp4", "a/y.mov", "a/z.jpg", ".hidden.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.annotated.mp4").write_bytes(b"x")
    assert [p.name for p in find_inputs(tmp_path, out)] == ["x.mp4"]
    assert [p.name for p in find_inputs(tmp_path, out, recursive=True)] == ["y.mov", "x.mp4"]
    assert [p.name for p in find_inputs(tmp_path, out, recursive=True, pattern="*.jpg")] == ["z.jpg"]
    jobs = plan(tmp_path, find_inputs(tmp_path, out, recursive=True), out)
    assert [j.out_dir for j in jobs] == [out / "a", out]


def test_partials_are_removed_and_incomplete_outputs_not_skipped(tmp_path):
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid whose process has ended: its temporary files are abandoned
    (tmp_path / f".clip.{dead.pid}-0123abcd.partial.csv").write_text("half")
    running = tmp_path / f".other.{os.getpid()}-0123abcd.partial.csv"  # an analyze still writing
    running.write_text("in progress")
    (tmp_path / "clip.csv").write_text("complete")
    assert remove_partials(tmp_path) == 1
    assert running.exists()
    assert (tmp_path / "clip.csv").exists()
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"x" * 10)
    job = Job(source, tmp_path)
    assert is_complete(job, OutputOptions(write_video=False)) is None  # no JSON yet
    (tmp_path / "clip.json").write_text('{"input": {"size_bytes": 10}, "counts": {}, "episodes": {"min_seconds": 0.5}}')
    (tmp_path / "clip.episodes.csv").write_text("complete")
    assert is_complete(job, OutputOptions(write_video=False)) is not None
    assert is_complete(job, OutputOptions(write_video=True)) is None  # the annotated video is missing
    source.write_bytes(b"x" * 11)
    assert is_complete(job, OutputOptions(write_video=False)) is None  # the input changed since


def snapshot(out: Path) -> dict[str, bytes]:
    """Every output file except timings: CSVs byte for byte, JSONs without their processing times."""
    import json

    files = {}
    for path in sorted(out.rglob("*")):
        if path.suffix == ".csv" and path.name != "index.csv":
            files[path.relative_to(out).as_posix()] = path.read_bytes()
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            data.pop("processing")
            files[path.relative_to(out).as_posix()] = json.dumps(data["counts"]).encode()
    return files


def test_sigkill_halfway_then_resume_matches_an_uninterrupted_run(folder, tmp_path, capsys):
    reference = tmp_path / "reference"
    batch(capsys, folder, reference, "--workers", "1")
    killed = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "fervideo",
        "batch",
        str(folder),
        "-o",
        str(killed),
        "--recursive",
        "--no-video",
        "--quiet",
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    # killed at its first result: three good files still to go, a margin that holds on a loaded machine (after the
    # second, the last two took under a second in all and were once done before the kill)
    while time.time() < deadline and not list(killed.rglob("*.json")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker, mid-batch
    proc.wait()
    assert len(list(killed.rglob("*.json"))) < len(GOOD_FILES), "the batch finished before it could be killed"
    batch(capsys, folder, killed, "--workers", "1")
    assert snapshot(killed) == snapshot(reference)
    assert not list(killed.rglob(".*partial*"))
    index = read_index(killed)
    assert all(index[name]["status"] in ("ok", "skipped") for name in GOOD_FILES)
    assert all(index[name]["status"] == "failed" for name in BAD_FILES)


def test_ray_engine_gives_the_same_index(folder, tmp_path, capsys):
    pytest.importorskip("ray", reason="ray is not installed (pip install ray)")
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    batch(capsys, folder, local, "--workers", "2")
    code, _ = batch(capsys, folder, ray_out, "--workers", "2", "--engine", "ray")
    assert code == 1
    strip = {"seconds", "outputs", "input"}
    a = {k: {f: v for f, v in r.items() if f not in strip} for k, r in read_index(local).items()}
    b = {k: {f: v for f, v in r.items() if f not in strip} for k, r in read_index(ray_out).items()}
    assert a == b
    assert snapshot(local) == snapshot(ray_out)


def test_ctrl_c_stops_cleanly_and_writes_the_index(folder, tmp_path):
    out = tmp_path / "out"
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from fervideo.cli import main\n"
        f"sys.exit(main(['batch', {str(folder)!r}, '-o', {str(out)!r}, '--recursive', '--workers', '1', '--quiet']))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.rglob("*.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    statuses = {row["status"] for row in read_index(out).values()}
    assert "ok" in statuses or "failed" in statuses
    # the last line says whether results finished before the stop were kept: the index's "ok" rows
    kept = b"finished results in" in err.strip().splitlines()[-1]
    assert kept == ("ok" in statuses), err
    assert any(row["error"] == "interrupted" for row in read_index(out).values())
    assert not list(out.rglob(".*partial*"))
