"""The console script: a Ctrl-C during start-up (while torch loads) is one line and exit 130, no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import types

from fervideo import entry
from tests.conftest import ROOT, SAMPLE


def test_interrupt_while_the_command_line_is_imported(monkeypatch, capsys):
    loading = types.ModuleType("fervideo.cli")

    def interrupted(name):
        raise KeyboardInterrupt

    loading.__getattr__ = interrupted
    monkeypatch.setitem(sys.modules, "fervideo.cli", loading)
    assert entry.run() == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "fervideo", "analyze", str(SAMPLE), "-o", str(tmp_path)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)  # torch alone takes over a second to import here
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err, err
    assert not any(tmp_path.iterdir())  # nothing written, not even a partial file
