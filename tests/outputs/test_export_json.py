"""`export` and `report` on a JSON whose fields were edited by hand: one line naming the field, nothing written.

Before, export stopped with "internal error (TypeError: type str doesn't define __round__ method)" for a string
frame rate, an AttributeError for a list as episodes, and every command with a RecursionError for a JSON nested
deeper than Python's recursion limit (issue 33, item 17).
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.faults import assert_one_error, run
from tests.helpers import scripted_result


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """A scripted run (no models): its video, CSV and JSON."""
    return scripted_result(tmp_path_factory.mktemp("result"))


def edited(result, tmp_path, change) -> object:
    """A copy of the result's CSV and JSON, the JSON changed by change(summary)."""
    shutil.copy(result / "step.csv", tmp_path / "step.csv")
    summary = json.loads((result / "step.json").read_text())
    change(summary)
    (tmp_path / "step.json").write_text(json.dumps(summary))
    return tmp_path / "step.csv"


def setter(dotted: str, value: object):
    def change(summary: dict) -> None:
        *parents, last = dotted.split(".")
        for key in parents:
            summary = summary[key]
        summary[last] = value

    return change


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("input.fps", "x", 'input.fps is "x", not a frame rate above 0'),
        ("input.fps", -1, "input.fps is -1, not a frame rate above 0"),
        ("input.fps", float("inf"), "input.fps is Infinity"),
        ("input.duration", None, "input.duration is missing"),
        ("input.duration", [1], "input.duration is [1]"),
        ("input.absolute_path", 1, "input.absolute_path is 1, not a path"),
        ("episodes", [1], "episodes is [1], not an object"),
        ("episodes.min_seconds", "x", 'episodes.min_seconds is "x"'),
        ("episodes.min_seconds", float("nan"), "episodes.min_seconds is NaN"),
        ("input", [1], 'no "input" object'),
    ],
)
def test_export_names_a_field_of_the_wrong_type(result, tmp_path, capfd, field, value, says):
    csv_path = edited(result, tmp_path, setter(field, value))
    code, err = run(capfd, "export", csv_path, "--format", "eaf,boris")
    assert code == 1
    assert_one_error(err, "step.json", says)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step.csv", "step.json"]


@pytest.mark.parametrize("command", [["report"], ["export", "--format", "eaf"], ["analyze", "{video}", "-o", "{out}"]])
def test_a_json_nested_past_the_recursion_limit_is_one_line(result, tmp_path, capfd, command):
    csv_path = edited(result, tmp_path, lambda summary: None)
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "step.json").write_text(deep)
    argv = [a.format(video=result / "step.mp4", out=tmp_path) for a in command]
    code, err = run(capfd, *argv[:1], *([csv_path] if len(argv) < 4 else []), *argv[1:])
    assert code == 1
    assert "internal error" not in err and len(err.strip().splitlines()) == 1, err
    assert (tmp_path / "step.json").read_text() == deep  # not a fervideo run's: left as it was
