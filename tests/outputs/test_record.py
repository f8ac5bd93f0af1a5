"""`fervideo report` and `fervideo export` record what they write in the JSON's `files`, so that a later analyze into
the folder replaces those files as a fervideo run's own; a user's own files stay untouched all the same."""

from __future__ import annotations

import json

import pytest

from fervideo.core.errors import OutputError
from fervideo.outputs.exports import export_result
from fervideo.outputs.report import report_from_result
from fervideo.run.job import analyze_file
from tests.helpers import make_step_video, read_json, scripted_analyzer

ADDED = ["step.boris", "step.eaf", "step.face1.tsv", "step.face2.tsv", "step.report.html", "step.timeline.png"]


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_step_video(tmp_path_factory.mktemp("clip") / "step.mp4")


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_report_and_export_add_their_files_to_the_json(video, tmp_path):
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    report_from_result(tmp_path / "step.csv")
    export_result(tmp_path / "step.csv", ("eaf", "boris"))
    summary = read_json(tmp_path / "step.json")
    assert summary["files"] == listing(tmp_path)
    assert set(ADDED) <= set(summary["files"])
    assert {"report", "timeline", "eaf", "boris"} <= set(summary["outputs"])


def test_analyze_replaces_what_report_and_export_wrote_and_keeps_a_users_file(video, tmp_path):
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    report_from_result(tmp_path / "step.csv")
    export_result(tmp_path / "step.csv", ("eaf", "boris"))
    (tmp_path / "step.notes.txt").write_text("mine\n")
    before = {name: (tmp_path / name).stat().st_ino for name in ADDED}
    both = ("eaf", "boris")
    summary = analyze_file(video, tmp_path, scripted_analyzer(), write_video=False, report=True, export=both)
    assert all((tmp_path / name).stat().st_ino != inode for name, inode in before.items())  # each one replaced
    assert (tmp_path / "step.notes.txt").read_text() == "mine\n"
    assert summary["files"] == sorted(set(listing(tmp_path)) - {"step.notes.txt"})


def test_analyze_without_them_removes_what_report_and_export_wrote(video, tmp_path):
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    report_from_result(tmp_path / "step.csv")
    export_result(tmp_path / "step.csv", ("eaf", "boris"))
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    assert listing(tmp_path) == ["step.csv", "step.episodes.csv", "step.json"]


@pytest.mark.parametrize("name", ["step.report.html", "step.eaf", "step.face2.tsv"])
def test_a_users_file_at_a_report_or_export_name_is_refused(video, tmp_path, name):
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    (tmp_path / name).write_text("mine\n")
    json_before = (tmp_path / "step.json").read_bytes()
    with pytest.raises(OutputError, match="in the way: no fervideo run wrote it"):
        if name == "step.report.html":
            report_from_result(tmp_path / "step.csv")
        else:
            export_result(tmp_path / "step.csv", ("eaf", "boris"))
    assert (tmp_path / name).read_text() == "mine\n"
    assert (tmp_path / "step.json").read_bytes() == json_before
    assert listing(tmp_path) == sorted(["step.csv", "step.episodes.csv", "step.json", name])


def test_an_older_json_keeps_its_own_files_and_gains_the_new(video, tmp_path):
    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    summary = read_json(tmp_path / "step.json")
    del summary["files"]  # as a run before `files` wrote it
    (tmp_path / "step.json").write_text(json.dumps(summary))
    export_result(tmp_path / "step.csv", ("eaf",))
    assert read_json(tmp_path / "step.json")["files"] == listing(tmp_path)


def test_into_another_folder_the_json_is_left_as_it_was(video, tmp_path):
    analyze_file(video, tmp_path / "a", scripted_analyzer(), write_video=False)
    json_before = (tmp_path / "a" / "step.json").read_bytes()
    export_result(tmp_path / "a" / "step.csv", ("eaf",), tmp_path / "b")
    assert listing(tmp_path / "b") == [".fervideo-files.json", "step.eaf"]  # b's own record of what export wrote
    assert (tmp_path / "a" / "step.json").read_bytes() == json_before


def test_a_json_that_changed_meanwhile_stops_the_commit(video, tmp_path, monkeypatch):
    import fervideo.outputs.exports as exports

    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False)
    write = exports.write_exports

    def then_a_new_analysis(*args, **kwargs):
        write(*args, **kwargs)
        (tmp_path / "step.json").write_text(json.dumps({**read_json(tmp_path / "step.json"), "new": True}))

    monkeypatch.setattr(exports, "write_exports", then_a_new_analysis)
    with pytest.raises(OutputError, match="changed meanwhile"):
        export_result(tmp_path / "step.csv", ("eaf",))
    assert read_json(tmp_path / "step.json")["new"] is True
    assert listing(tmp_path) == ["step.csv", "step.episodes.csv", "step.json"]


@pytest.mark.integration
def test_the_commands_in_turn_into_one_folder(tmp_path, capsys, media):
    from tests.helpers import run

    clip, out = str(media("single_face.mp4")), str(tmp_path)
    assert run(capsys, "analyze", clip, "-o", out, "--every", "10", "--no-video", "-q")[0] == 0
    assert run(capsys, "report", str(tmp_path / "single_face.csv"), "-q")[0] == 0
    assert run(capsys, "export", str(tmp_path / "single_face.csv"), "--format", "eaf,boris", "-q")[0] == 0
    (tmp_path / "notes.txt").write_text("mine\n")
    argv = ["analyze", clip, "-o", out, "--every", "10", "--no-video", "--report", "--export", "eaf,boris", "-q"]
    code, err = run(capsys, *argv)
    assert code == 0, err
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
    assert read_json(tmp_path / "single_face.json")["files"] == sorted(set(listing(tmp_path)) - {"notes.txt"})


def test_export_on_a_full_disk_is_one_line_and_keeps_the_json_and_earlier_files(video, tmp_path, capsys, monkeypatch):
    from tests.faults import fill_disk
    from tests.helpers import one_error_line, run

    analyze_file(video, tmp_path, scripted_analyzer(), write_video=False, export=("eaf",))
    before = {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)}
    fill_disk(monkeypatch, tmp_path, ".json", room=10)  # the exports fit, the JSON that records them does not
    code, err = run(capsys, "export", str(tmp_path / "step.csv"), "--format", "eaf,boris")
    assert code == 1 and "could not write the exports: No space left on device" in one_error_line(err)
    assert {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)} == before
