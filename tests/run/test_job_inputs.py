"""An analysis job never writes over its own input, from the command line or the library."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


@pytest.mark.parametrize("name", ["v.json", "w.csv"])
def test_an_input_is_never_overwritten_by_its_own_output(tmp_path, capsys, name):
    clip = tmp_path / name
    shutil.copy(SAMPLE, clip)
    before = clip.read_bytes()
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path), "--no-video")
    assert code == 2 and "which is the input" in one_error_line(err)
    assert clip.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_the_library_refuses_it_too(tmp_path):
    from fervideo.core.errors import UsageError
    from fervideo.run.job import analyze_file

    clip = tmp_path / "v.json"
    shutil.copy(SAMPLE, clip)
    with pytest.raises(UsageError, match="would be overwritten by its own outputs"):
        analyze_file(clip, tmp_path, analyzer=None)  # refused before the analyzer is touched
