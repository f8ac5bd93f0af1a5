"""A run replaces or removes only files that a fervideo run wrote (the JSON's `files`); a user's own stay."""

from __future__ import annotations

import shutil

import pytest

from fervideo.core.errors import OutputError
from fervideo.run.job import analyze_file
from tests.conftest import SAMPLE
from tests.helpers import make_step_video, read_json, run, scripted_analyzer


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_step_video(tmp_path_factory.mktemp("clip") / "step.mp4")


def test_the_json_records_every_file_the_run_wrote(video, tmp_path):
    summary = analyze_file(video, tmp_path, scripted_analyzer(), write_video=False, export=("eaf", "boris"))
    assert summary["files"] == sorted(p.name for p in tmp_path.iterdir())
    assert "step.face1.tsv" in summary["files"] and read_json(tmp_path / "step.json")["files"] == summary["files"]


def test_a_rerun_removes_the_earlier_runs_files_and_only_those(video, tmp_path):
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False, export=("eaf", "boris"))
    (tmp_path / "step.face_notes.tsv").write_text("mine\n")  # a user's notes, named like a face's series
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "step.csv",
        "step.episodes.csv",
        "step.face_notes.tsv",
        "step.json",
    ]
    assert (tmp_path / "step.face_notes.tsv").read_text() == "mine\n"


def test_files_named_like_outputs_that_no_run_wrote_are_kept(video, tmp_path):
    mine = {name: f"mine: {name}\n" for name in ("step.eaf", "step.boris.tsv", "step.face_notes.tsv", "step.face1.tsv")}
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)  # a rerun, now with a JSON there
    assert {name: (tmp_path / name).read_text() for name in mine} == mine


@pytest.mark.parametrize("name", ["step.annotated.mp4", "step.csv", "step.json"])
def test_a_users_file_at_an_output_name_is_never_replaced(video, tmp_path, name):
    (tmp_path / name).write_text("mine\n")
    with pytest.raises(OutputError, match="no fervideo run wrote it"):
        analyze_file(video, tmp_path, scripted_analyzer())
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert (tmp_path / name).read_text() == "mine\n"


def test_a_users_file_that_appears_during_the_run_is_kept(video, tmp_path):
    def progress(done: int, expected: int) -> None:
        if done == 3:
            (tmp_path / "step.episodes.csv").write_text("mine\n")

    with pytest.raises(OutputError, match="step.episodes.csv"):
        analyze_file(video, tmp_path, scripted_analyzer(), write_video=False, progress=progress)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step.episodes.csv"]
    assert (tmp_path / "step.episodes.csv").read_text() == "mine\n"


@pytest.mark.integration
def test_analyze_into_the_inputs_folder_keeps_the_users_exports(tmp_path, capsys, media):
    shutil.copy(media("single_face.mp4"), tmp_path / "clip.mp4")
    mine = {name: "mine\n" for name in ("clip.eaf", "clip.boris.tsv", "clip.face_notes.tsv")}
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    code, err = run(capsys, "analyze", str(tmp_path / "clip.mp4"), "-o", str(tmp_path), "--every", "10", "-q")
    assert code == 0, err
    assert {name: (tmp_path / name).read_text() for name in mine} == mine
    assert (tmp_path / "clip.annotated.mp4").is_file() and (tmp_path / "clip.json").is_file()


@pytest.mark.integration
def test_batch_into_its_own_folder_never_replaces_a_users_annotated_video(tmp_path, capsys):
    shutil.copy(SAMPLE, tmp_path / "clip.mp4")
    shutil.copy(SAMPLE, tmp_path / "other.mp4")
    (tmp_path / "clip.annotated.mp4").write_bytes(b"my own edit")
    argv = ["batch", str(tmp_path), "-o", str(tmp_path), "--every", "30", "--workers", "1"]
    code, err = run(capsys, *argv)
    assert code == 1 and "clip.annotated.mp4" in err and "Traceback" not in err, err
    assert (tmp_path / "clip.annotated.mp4").read_bytes() == b"my own edit"
    assert not (tmp_path / "clip.json").exists() and (tmp_path / "other.json").is_file()
