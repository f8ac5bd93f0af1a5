"""fervideo analyze /dev/stdin redirected from a file."""

from __future__ import annotations

from tests.conftest import SAMPLE


def test_analyze_dev_stdin_redirected_from_a_file(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.helpers import read_json

    with open(SAMPLE, "rb") as clip:
        done = subprocess.run(
            [sys.executable, "-m", "fervideo", "analyze", "/dev/stdin", "-o", str(tmp_path), "--every", "10"],
            stdin=clip,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert read_json(tmp_path / "stdin.json")["counts"]["frames_analysed"] == 15
    assert (tmp_path / "stdin.annotated.mp4").stat().st_size > 0
