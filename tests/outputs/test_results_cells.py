"""A result CSV with a value fervideo never writes is refused in one line naming the file, the line and the column.

Before, a frame or face id of 100000000000000000000 stopped numpy with an OverflowError, a time of 1e308 s stopped
matplotlib or the ELAN writer, and a probability of 1e308 printed numpy's overflow warnings: "internal error"s
and multi-line noise (issue 33, item 17).
"""

from __future__ import annotations

import re
import shutil

import pytest

from fervideo.core.errors import InputError
from fervideo.outputs.results import read_table
from fervideo.outputs.sinks import CSV_HEADER
from tests.faults import assert_one_error, run
from tests.helpers import scripted_result

CASES = [
    ("face_id", "100000000000000000000", "outside 1-2147483647"),
    ("frame", "100000000000000000000", "outside 0-2147483647"),
    ("face_id", "1e20", "not a whole number"),
    ("frame", "1e20", "not a whole number"),
    ("frame", "-3", "not a whole number"),
    ("time_s", "1e308", "outside 0 to 1e+09"),
    ("time_s", "-1", "outside 0 to 1e+09"),
    ("happy", "1e308", "outside 0 to 1"),
    ("confidence", "-0.5", "outside 0 to 1"),
    ("valence", "2", "outside -1 to 1"),
    ("w", "1e308", "outside -1e+09 to 1e+09"),
    ("x", "abc", "not a number"),
    ("emotion", "joy", "not one of angry"),
]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """A scripted run (no models): its CSV and JSON."""
    return scripted_result(tmp_path_factory.mktemp("result"))


def damaged(result, tmp_path, column: str, value: str) -> object:
    """A copy of the result whose 3rd row has value in column."""
    shutil.copy(result / "step.json", tmp_path / "step.json")
    lines = (result / "step.csv").read_text().splitlines()
    cells = lines[3].split(",")
    assert cells[CSV_HEADER.index("face_id")], "the row must have a face"
    cells[CSV_HEADER.index(column)] = value
    lines[3] = ",".join(cells)
    path = tmp_path / "step.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("column", "value", "says"), CASES)
def test_a_value_fervideo_never_writes_is_refused_naming_line_and_column(result, tmp_path, column, value, says):
    with pytest.raises(InputError, match=re.escape(f"line 4: {column} is {value!r}, {says}")) as info:
        read_table(damaged(result, tmp_path, column, value))
    assert "\n" not in str(info.value) and "step.csv" in str(info.value)


@pytest.mark.parametrize(("column", "value", "says"), [CASES[0], CASES[1], CASES[5], CASES[7]])
@pytest.mark.parametrize("command", [["report"], ["export", "--format", "eaf,boris"]])
def test_report_and_export_say_it_in_one_line_and_write_nothing(result, tmp_path, capfd, command, column, value, says):
    path = damaged(result, tmp_path, column, value)
    code, err = run(capfd, command[0], path, *command[1:])
    assert code == 1
    assert_one_error(err, "step.csv", f"line 4: {column}", says)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step.csv", "step.json"]


def test_a_row_cut_short_is_named(result, tmp_path):
    path = damaged(result, tmp_path, "frame", "4")
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, "5,0.5,1"]) + "\n")
    with pytest.raises(InputError, match=f"line {len(lines) + 1}: 3 values where its header has"):
        read_table(path)
    cut = lines[-1].split(",")[:-3]  # cut within the face mesh's columns: read as NaN before, a report made of it
    path.write_text("\n".join([*lines[:-1], ",".join(cut)]) + "\n")
    with pytest.raises(InputError, match=f"line {len(lines)}: {len(cut)} values where its header has"):
        read_table(path)
