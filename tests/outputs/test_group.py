"""fervideo.outputs.group: a run's outputs are committed as one group or not at all."""

from __future__ import annotations

from tests.conftest import SAMPLE
from tests.helpers import one_error_line, run


def test_outputs_are_committed_as_one_group_or_not_at_all(tmp_path, capsys, monkeypatch):
    import os
    from pathlib import Path

    import fervideo.core.atomic as atomic

    out = tmp_path / "out"
    assert run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "10")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.replace

    def stuck(src, dst):  # the old annotated video cannot be moved (chattr +i, say)
        if Path(src).name == "demo.annotated.mp4":
            raise PermissionError(1, "Operation not permitted")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", stuck)
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "3")
    assert code == 1 and "Operation not permitted" in one_error_line(err)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old set, whole; no temporary left
    monkeypatch.undo()
    assert run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "3", "--no-video")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["demo.csv", "demo.episodes.csv", "demo.json"]  # no old video
