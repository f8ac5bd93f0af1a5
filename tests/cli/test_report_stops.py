"""`fervideo report` stopped at any moment: exit 130 and one line, never a swallowed Ctrl-C and exit 0."""

from __future__ import annotations

import signal

import pytest

from fervideo.core import signals
from fervideo.outputs import report
from tests.conftest import SAMPLE
from tests.helpers import run

pytestmark = pytest.mark.integration
STEPS = ["read_table", "moments_from_source", "timeline_png", "render_html", "commit_group", "prepare_out_dir"]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """demo.csv and demo.json, as analyze writes them."""
    from fervideo.cli import main

    out = tmp_path_factory.mktemp("result")
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--no-video", "--every", "10", "-q"]) == 0
    return out / "demo.csv"


@pytest.fixture
def no_stop_left():
    yield
    signals.reset()


@pytest.mark.parametrize("step", STEPS)
def test_ctrl_c_in_any_step_of_report_exits_130(result, tmp_path, capsys, monkeypatch, step):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, step, interrupted)
    code, err = run(capsys, "report", str(result), "-o", str(tmp_path / "r"))
    assert code == 130 and err.strip() == "interrupted; unfinished outputs were removed", err


@pytest.mark.parametrize("step", STEPS)
def test_a_ctrl_c_that_a_library_swallowed_in_report_still_exits_130(
    result, tmp_path, capsys, monkeypatch, no_stop_left, step
):
    real = getattr(report, step)

    def swallowed(*args, **kwargs):
        signals.request(signal.SIGINT)  # as fervideo.entry's handler records it; the library then ate the exception
        return real(*args, **kwargs)

    monkeypatch.setattr(report, step, swallowed)
    code, err = run(capsys, "report", str(result), "-o", str(tmp_path / "r"))
    assert code == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("interrupted"), err
