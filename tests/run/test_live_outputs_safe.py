"""`live --csv` and `--record` replace only an earlier live run's files: never a part of an analyze result (its other
files were deleted), never a file no fervideo run wrote (it was overwritten), refused before the camera opens."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fervideo.cli import main
from fervideo.run import live
from tests.conftest import shared_path
from tests.faults import run
from tests.helpers import one_error_line, read_csv

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory):
    """An analyze result of one second of single_face.mp4, with its report and ELAN export, as a user keeps it."""
    folder = tmp_path_factory.mktemp("analyzed") / "lo3"
    clip = shared_path("media", "single_face.mp4")
    argv = ["analyze", str(clip), "--end", "1", "-o", str(folder), "--report", "--export", "eaf", "-q"]
    assert main(argv) == 0
    return folder


@pytest.fixture
def cameras(monkeypatch):
    """The sources live opened: a refusal must come before any."""
    opened, real = [], live.LatestFrameReader.__init__

    def spy(self, camera):
        opened.append(camera)
        real(self, camera)

    monkeypatch.setattr(live.LatestFrameReader, "__init__", spy)
    return opened


def contents(folder: Path) -> dict[str, bytes]:
    """Every file in folder, hidden temporaries included, with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def live_argv(media, *extra: object, frames: int = 5) -> list[object]:
    """live on the clip, headless, quiet, with extra's outputs."""
    return ["live", "--camera", media("single_face.mp4"), "--no-window", "--max-frames", frames, "-q", *extra]


@pytest.mark.parametrize(
    ("flag", "name", "gone"),
    [
        ("--csv", "single_face.csv", None),
        ("--csv", "single_face.csv", "single_face.csv"),  # the JSON alone still holds the result
        ("--csv", "single_face.episodes.csv", None),
        ("--record", "single_face.annotated.mp4", None),
    ],
)
def test_live_refuses_to_take_over_a_part_of_an_analyze_result(
    tmp_path, capfd, media, analyzed, cameras, flag, name, gone
):
    folder = tmp_path / "lo3"
    shutil.copytree(analyzed, folder)
    if gone is not None:
        (folder / gone).unlink()
    before = contents(folder)
    code, err = run(capfd, *live_argv(media, flag, folder / name))
    assert code == 1 and contents(folder) == before, err
    line = one_error_line(err)
    assert "is part of an earlier analyze result of" in line, line
    source = shared_path("media", "single_face.mp4").resolve()  # as the JSON records it: ../shared may be a link
    assert str(source) in line and f"choose another {flag} name" in line, line
    assert not cameras


@pytest.mark.parametrize(
    ("flag", "name", "data"),
    [
        ("--csv", "prec.csv", b"precious\n"),
        ("--record", "prec.mp4", b"precious\n"),
        ("--record", "holiday.mp4", None),  # a user's own video (H.264), not one live recorded
    ],
)
def test_live_never_replaces_a_file_no_fervideo_run_wrote(tmp_path, capfd, media, cameras, flag, name, data):
    mine = tmp_path / name
    mine.write_bytes(data if data is not None else media("single_face.mp4").read_bytes())
    before = contents(tmp_path)
    code, err = run(capfd, *live_argv(media, flag, mine))
    assert code == 1 and contents(tmp_path) == before, err
    line = one_error_line(err)
    assert f"{mine} is in the way: no fervideo run wrote it" in line, line
    assert f"choose another {flag} name" in line and not cameras


@pytest.mark.parametrize("extra", [["--csv", "a.csv", "--record", "a.mp4"], ["--record", "only.mp4"]])
def test_live_still_replaces_its_own_earlier_outputs(tmp_path, capfd, media, monkeypatch, extra):
    monkeypatch.chdir(tmp_path)
    for frames in (5, 3):
        code, err = run(capfd, *live_argv(media, *extra, frames=frames))
        assert code == 0 and not err.strip(), err
    files = {name for name in extra if not name.startswith("--")}
    if "a.csv" in files:
        assert len({row["frame"] for row in read_csv(tmp_path / "a.csv")}) == 3  # the rerun's, in place
        files.add("a.json")
    assert {p.name for p in tmp_path.iterdir()} == files
