"""A full disk or a failing writer during `fervideo analyze`: one line, exit 1, no partial output anywhere."""

from __future__ import annotations

import pytest

from tests.faults import assert_one_error, fill_disk, names, no_hang, run, tmpfs  # noqa: F401 (no_hang: fixture)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_hang")]


# --- a full disk mid-run --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "room", "argv"),
    [(".csv", 2000, ["--no-video"]), (".json", 0, [])],
    ids=["csv", "json"],
)
def test_disk_full_mid_run_keeps_the_previous_result(tmp_path, capfd, monkeypatch, media, suffix, room, argv):
    out = tmp_path / "out"
    out.mkdir()
    previous = {name: f"result of an earlier run: {name}" for name in ("single_face.csv", "single_face.json")}
    # an earlier fervideo run's JSON, which records its files: a run replaces only those (test_own_files)
    previous["single_face.json"] = '{"fervideo_version": "earlier", "files": ["single_face.csv", "single_face.json"]}'
    for name, text in previous.items():
        (out / name).write_text(text)
    opened = fill_disk(monkeypatch, out, suffix, room)
    code, err = run(capfd, "analyze", media("single_face.mp4"), "-o", out, *argv)
    assert opened, f"nothing ending in {suffix} was written in {out}; the test no longer reaches the writer"
    assert code == 1
    assert_one_error(err, "single_face.mp4", "No space left on device")
    kept = {name: (out / name).is_file() and (out / name).read_text() == text for name, text in previous.items()}
    # the earlier result stays whole, or at least loses its JSON (the mark of a complete result): a new CSV
    # never sits beside the earlier run's JSON, which batch would take for a finished result
    assert all(kept.values()) or not (out / "single_face.json").exists(), kept
    assert not [name for name in names(out) if name.startswith(".")]  # no temporary left behind


@pytest.mark.parametrize(("kib", "argv"), [(200, []), (8, ["--no-video"])], ids=["video-fills-200k", "csv-fills-8k"])
def test_really_full_disk(tmp_path, capfd, media, kib, argv):
    with tmpfs(tmp_path / "disk", kib) as disk:
        if disk is None:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        code, err = run(capfd, "analyze", media("single_face.mp4"), "-o", disk / "out", *argv)
        assert code == 1
        assert_one_error(err, "single_face")
        assert "No space left on device" in err or "disk full" in err
        assert names(disk / "out") == []
