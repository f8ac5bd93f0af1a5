"""analyze replaces an earlier result of the same input only, as its help says; another input's stays (as batch)."""

from __future__ import annotations

import os
import shutil

from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


def test_a_result_of_another_input_with_the_same_name_is_kept(tmp_path, capsys):
    first, second, out = tmp_path / "one" / "a.mp4", tmp_path / "two" / "a.mp4", tmp_path / "out"
    for path in (first, second):
        path.parent.mkdir()
        shutil.copy(SAMPLE, path)
    os.utime(second, ns=(10**18, 10**18))  # another recording (a recording moved elsewhere keeps its time)
    argv = ["-o", str(out), "--end", "0.5", "--no-video", "-q"]
    assert run(capsys, "analyze", str(first), *argv)[0] == 0
    kept = {path.name: path.read_bytes() for path in out.iterdir()}
    for extra in ([], ["--skip-existing"]):
        code, err = run(capsys, "analyze", str(second), *argv, *extra)
        assert code == 1 and "is the result of another input" in one_error_line(err)
        assert {path.name: path.read_bytes() for path in out.iterdir()} == kept
    assert run(capsys, "analyze", str(first), *argv)[0] == 0  # its own input may still replace it
