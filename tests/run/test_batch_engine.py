"""The local engine's pieces without models: how a worker's end reads in the index, and its stop handler."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from fervideo.run.batch import worker
from fervideo.run.batch.engines import _Worker


@pytest.mark.parametrize(
    ("exitcode", "words"),
    [
        (-signal.SIGKILL, "killed by SIGKILL, perhaps for want of memory"),
        (-signal.SIGTERM, "stopped by SIGTERM"),
        (128 + signal.SIGTERM, "stopped by SIGTERM"),  # its own handler's exit, after the clean-up
        (1, "exit status 1"),
        (255, "exit status 255"),
    ],
)
def test_a_dead_workers_end_in_words(exitcode, words):
    assert _Worker(SimpleNamespace(exitcode=exitcode), None).ending() == words


def test_a_second_stop_signal_does_not_break_into_the_first_ones_clean_up(monkeypatch):
    monkeypatch.setattr(worker, "_STOPPING", False)
    with pytest.raises(SystemExit) as stop:
        worker._exit_cleanly(signal.SIGTERM, None)
    assert stop.value.code == 128 + signal.SIGTERM
    worker._exit_cleanly(signal.SIGTERM, None)  # the parent-death signal after the lifeline's: ignored
