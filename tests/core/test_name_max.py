"""An output name over NAME_MAX bytes is refused before a run writes anything, and never blocks its folder after."""

from __future__ import annotations

import os
import shutil

import pytest

from fervideo.core import journal
from fervideo.core.atomic import NAME_MAX, AtomicOutput
from fervideo.core.errors import OutputError
from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


def test_an_output_name_over_name_max_is_refused_at_once(tmp_path):
    with pytest.raises(OutputError, match=f"over the {NAME_MAX}"):
        AtomicOutput(tmp_path / ("a" * 250 + ".episodes.csv"))
    AtomicOutput(tmp_path / ("a" * (NAME_MAX - 4) + ".csv"))  # exactly NAME_MAX: fine


def test_a_long_input_name_leaves_nothing_and_the_folder_stays_usable(tmp_path, capsys):
    long = tmp_path / ("a" * 245 + ".mp4")  # its .csv fits, its .episodes.csv and .annotated.mp4 would not
    shutil.copy(SAMPLE, long)
    out = tmp_path / "out"
    out.mkdir()
    code, err = run(capsys, "analyze", str(long), "-o", str(out), "--end", "0.5", "--no-video")
    assert code == 1 and "give the input a shorter name" in one_error_line(err)
    assert os.listdir(out) == []  # not the CSV alone, and no commit journal
    code, _ = run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--end", "0.5", "--no-video", "-q")
    assert code == 0 and (out / "demo.json").is_file()


def test_undoing_a_move_to_a_name_no_file_can_have_does_not_fail(tmp_path):
    new = tmp_path / "new.csv"
    new.write_text("x\n")
    move = journal.Move.of(tmp_path / ("a" * 300), new, None)  # a journal written before the check above existed
    assert not move.placed()
    journal.back([move])
    assert not new.exists()
