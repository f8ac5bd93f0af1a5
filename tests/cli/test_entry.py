"""The console script: a Ctrl-C during start-up (while torch loads) is one line and exit 130, no traceback."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from fervideo import entry
from fervideo.core import signals
from tests.conftest import ROOT, SAMPLE


def test_interrupt_while_the_command_line_is_imported(monkeypatch, capsys):
    loading = types.ModuleType("fervideo.cli")

    def interrupted(name):
        raise KeyboardInterrupt

    loading.__getattr__ = interrupted
    monkeypatch.setitem(sys.modules, "fervideo.cli", loading)
    handlers = {signum: signal.getsignal(signum) for signum in signals.STOPS}
    try:
        assert entry.run() == 130
    finally:  # entry.run() installs its handlers for good: later tests get Python's back
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.parametrize("delay", [0.2, 0.5, 1.0])
def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path, delay):
    # at 0.5 s numpy was loading: it turned the KeyboardInterrupt into an ImportError (exit 1, or a finished run)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fervideo", "analyze", str(SAMPLE), "-o", str(tmp_path)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)  # torch alone takes over a second to import here
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err, err
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing written, not even a partial file


def test_a_stop_that_a_library_swallowed_still_stops_the_run(tmp_path, capsys):
    from fervideo.cli import main
    from fervideo.core import signals

    signals.request(signal.SIGINT)  # as if numpy had turned the KeyboardInterrupt into something else
    try:
        code = main(["analyze", str(SAMPLE), "-o", str(tmp_path / "out"), "--every", "10"])
    finally:
        signals.reset()
    assert code == 130 and "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # no output, no folder


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def children(pid: int) -> set[int]:
    found = set()
    for task in (Path("/proc") / str(pid) / "task").glob("*"):
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_analyze_like_ctrl_c(tmp_path, signum):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fervideo", "analyze", str(SAMPLE), "-o", str(out), "--quiet"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: out.is_dir() and any(out.iterdir()))  # the hidden partial files are being written
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum and "interrupted" in err and "Traceback" not in err, err
    assert not out.exists()  # no partial file is left behind, nor the folder the run made


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc")
def test_sigterm_to_batch_stops_its_workers_and_writes_the_index(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        shutil.copy(SAMPLE, inputs / f"clip{i}.mp4")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fervideo", "batch", str(inputs), "-o", str(out), "--workers", "1", "--quiet"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: out.is_dir() and any(p.name.startswith(".") for p in out.iterdir()))  # a worker is writing
    workers = children(proc.pid)
    assert workers
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    for pid in workers:
        wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text())
    rows = (out / "index.csv").read_text().splitlines()
    assert len(rows) == 4 and sum("interrupted" in row for row in rows) >= 2


def test_a_stop_after_the_command_has_ended_changes_nothing(tmp_path):
    # a Ctrl-C as the process exits, its outputs in place: once a traceback with status 0, or 130 and no line
    script = (
        "import os, signal, sys\n"
        "from fervideo import entry\n"
        "sys.argv = ['fervideo', 'models']\n"
        "code = entry.run()\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "print('after', code)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "after 0" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr and "interrupted" not in done.stderr
