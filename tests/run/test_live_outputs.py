"""Live mode refuses outputs that would clobber each other or the input, and a FIFO."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--record", "{tmp}/a.mp4", "--csv", "{tmp}/a.mp4"], "--record and --csv both name"),
        (["--record", "{sample}"], "is the input; --record and --csv must name other files"),
    ],
)
def test_live_refuses_outputs_that_would_clobber_each_other_or_the_input(tmp_path, capsys, extra, message):
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{sample}", str(SAMPLE)) for a in extra]
    code, err = run(capsys, "live", "--camera", str(SAMPLE), "--no-window", *argv)
    assert code == 2 and message in one_error_line(err)


def test_live_refuses_a_fifo_instead_of_hanging(tmp_path, capsys):
    import os

    fifo = tmp_path / "camera"
    os.mkfifo(fifo)
    code, err = run(capsys, "live", "--camera", str(fifo), "--no-window", "--max-frames", "1")
    assert code == 1 and "is a pipe or socket" in one_error_line(err)
