"""A batch's local worker processes: they die with their driver, one that dies is retried, and a stop is quick.

Real batches in subprocesses, on long face-free clips (real detector and model) that keep the workers busy.
"""

from __future__ import annotations

import csv
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fervideo.core.atomic import PARTIAL
from tests.faults import write_video

pytestmark = pytest.mark.integration

BUSY_S = 180  # generous: model loading on a loaded machine


def batch_cli(folder: Path, out: Path, *extra: str, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "fervideo", "batch", str(folder), "-o", str(out), "--no-video", "--quiet", *extra]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **popen)


def clips(folder: Path, frames: int, count: int = 2) -> Path:
    """count face-free 16x16 clips at 30 fps: tiny frames, so the length alone sets how long a worker is busy."""
    folder.mkdir()
    for i in range(count):
        write_video(folder / f"clip{i}.mp4", frames=frames, size=(16, 16), fps=30.0)
    return folder


def writers(out: Path, count: int, driver: int) -> list[int]:
    """The pids of the workers writing outputs into out, once count of them are (their temporaries carry it)."""
    deadline = time.monotonic() + BUSY_S
    while time.monotonic() < deadline:
        pids = {int(m[1]) for p in out.glob(".*") if (m := PARTIAL.search(p.name))} if out.is_dir() else set()
        pids.discard(driver)  # its index.csv on the way in
        if len(pids) >= count:
            return sorted(pids)
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} workers started writing within {BUSY_S} s")


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status  # a zombie has ended; only its parent's wait is missing


def wait_gone(pids: list[int], limit: float) -> list[int]:
    """Those of pids still running after limit seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def index(out: Path) -> dict[str, dict]:
    with open(out / "index.csv", newline="") as f:
        return {Path(row["input"]).name: row for row in csv.DictReader(f)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_driver_and_release_its_stdout(tmp_path):
    folder = clips(tmp_path / "in", frames=18000)  # ten minutes each: far longer than the wait below
    out = tmp_path / "out"
    proc = batch_cli(folder, out, "--workers", "2", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        workers += writers(out, 2, proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the driver alone, as `kill -9` does
        proc.wait()
        assert wait_gone(workers, 30) == [], "workers outlived their driver"
        # `fervideo batch ... | cat` returns: no process holds the driver's stdout any more
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready and proc.stdout.read() == b""
    finally:
        proc.kill()
        for pid in [p for p in workers if alive(p)]:  # the old behaviour: left running for minutes
            os.kill(pid, signal.SIGKILL)
        proc.stdout.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_killed_by_sigterm_is_retried_and_the_other_goes_on(tmp_path):
    folder = clips(tmp_path / "in", frames=1500)
    out = tmp_path / "out"
    proc = batch_cli(folder, out, "--workers", "2", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        victim = writers(out, 2, proc.pid)[0]
        os.kill(victim, signal.SIGTERM)  # one worker, from outside: an admin's kill, a container's stop
        _, err = proc.communicate(timeout=BUSY_S * 2)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    rows = index(out)
    assert sorted(rows) == ["clip0.mp4", "clip1.mp4"]
    assert all(row["status"] == "ok" and row["frames"] == "1500" for row in rows.values()), rows
    assert not list(out.rglob(".*partial*"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_killed_by_sigkill_leaves_no_temporary_files_behind_its_retry(tmp_path):
    """kill -9 (or the OOM killer) gives a worker no chance to discard its files: the driver sweeps them up."""
    folder = clips(tmp_path / "in", frames=1500)
    out = tmp_path / "out"
    proc = batch_cli(folder, out, "--workers", "2", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        victim = writers(out, 2, proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        _, err = proc.communicate(timeout=BUSY_S * 2)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert all(row["status"] == "ok" for row in index(out).values())
    assert not list(out.rglob(".*partial*")), "the killed worker's temporary files stayed"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_batch_stops_its_busy_workers_within_seconds(tmp_path, signum):
    folder = clips(tmp_path / "in", frames=18000)
    out = tmp_path / "out"
    # its own process group: a Ctrl-C reaches the driver and its workers alike, as in a terminal
    proc = batch_cli(folder, out, "--workers", "2", stderr=subprocess.PIPE, start_new_session=True)
    workers: list[int] = []
    try:
        workers += writers(out, 2, proc.pid)
        tic = time.monotonic()
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)  # `kill DRIVER`: the driver alone
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - tic
    finally:
        proc.kill()
        for pid in [p for p in workers if alive(p)]:
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 128 + signum, err
    assert b"interrupted" in err
    # the driver used to wait 10 s for workers that caught the stop and sat idle; a loaded machine gets slack
    assert took < 8, f"the batch took {took:.1f} s to stop"
    assert wait_gone(workers, 5) == []
    assert {row["error"] for row in index(out).values()} == {"interrupted"}
    assert not list(out.rglob(".*partial*"))
