"""Which input a result belongs to: replaced inputs, the batch's own names, the codec, another batch's folder."""

from __future__ import annotations

import csv
import os
import shutil

import pytest

from fervideo.core.errors import InputError
from fervideo.core.layout import OutputOptions
from fervideo.run.batch import INDEX_HEADER, Job, is_complete, plan
from fervideo.run.job import analyze_file
from tests.conftest import SAMPLE
from tests.faults import fill_disk
from tests.helpers import make_step_video, one_error_line, read_json, run, scripted_analyzer


@pytest.fixture
def clip(tmp_path):
    (tmp_path / "in").mkdir()
    return make_step_video(tmp_path / "in" / "step.mp4")


def replace_with_a_copy(clip, tmp_path):
    """mv another file of the same size over clip, as a user would; mv keeps the other file's mtime."""
    other = make_step_video(tmp_path / "other.mp4")
    os.utime(other, ns=(clip.stat().st_atime_ns, clip.stat().st_mtime_ns - 10**9))
    assert other.stat().st_size == clip.stat().st_size
    os.replace(other, clip)


def test_an_input_replaced_while_it_is_analysed_leaves_no_result(clip, tmp_path):
    out = tmp_path / "out"

    def progress(done: int, expected: int) -> None:
        if done == 3:
            replace_with_a_copy(clip, tmp_path)

    with pytest.raises(InputError, match="changed while it was analysed"):
        analyze_file(clip, out, scripted_analyzer(), write_video=False, progress=progress)
    assert list(out.iterdir()) == []


def test_an_input_replaced_after_its_run_by_one_of_the_same_size_is_redone(clip, tmp_path):
    out = tmp_path / "out"
    summary = analyze_file(clip, out, scripted_analyzer(), write_video=False)
    assert summary["input"]["mtime_ns"] == clip.stat().st_mtime_ns
    job = Job(clip, out)
    assert is_complete(job, OutputOptions(write_video=False)) is not None
    replace_with_a_copy(clip, tmp_path)
    assert is_complete(job, OutputOptions(write_video=False)) is None


def test_a_result_in_the_other_codec_is_not_complete(clip, tmp_path):
    out = tmp_path / "out"
    analyze_file(clip, out, scripted_analyzer(), codec="mp4v")
    job = Job(clip, out)
    assert is_complete(job, OutputOptions(codec="mp4v")) is not None
    assert is_complete(job, OutputOptions(codec="h264")) is None
    assert is_complete(job, OutputOptions(write_video=False, codec="h264")) is not None  # no video asked for


def test_inputs_named_like_the_batchs_own_files_keep_their_whole_name(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    inputs = [folder / "index.mp4", folder / "other.mp4", folder / "sub" / "index.mp4"]
    assert [job.stem for job in plan(folder, inputs, out)] == ["index.mp4", None, None]
    assert [job.stem for job in plan(folder, [folder / "INDEX.MOV"], out)] == ["INDEX.MOV"]


@pytest.mark.integration
def test_a_batch_with_an_input_named_index(tmp_path, capsys):
    from tests.helpers import read_csv

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "index.mp4")
    shutil.copy(SAMPLE, folder / "other.mp4")
    argv = ["batch", str(folder), "-o", str(out), "--no-video", "--every", "30", "--workers", "1"]
    code, err = run(capsys, *argv)
    assert code == 0 and "2 ok" in err, err
    assert read_csv(out / "index.mp4.csv") and read_json(out / "index.mp4.json")["counts"]["frames_analysed"] == 5
    with open(out / "index.csv", newline="") as f:
        assert csv.DictReader(f).fieldnames == INDEX_HEADER
    code, err = run(capsys, *argv, "--codec", "mp4v")  # no video: the codec changes nothing
    assert code == 0 and "0 ok, 2 skipped" in err, err


@pytest.mark.integration
def test_a_batch_rerun_with_another_codec_redoes_the_video(tmp_path, capsys):
    from fervideo.outputs.encoder import probe

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "clip.mp4")
    argv = ["batch", str(folder), "-o", str(out), "--every", "30", "--workers", "1"]
    assert run(capsys, *argv)[0] == 0
    code, err = run(capsys, *argv, "--codec", "mp4v")
    assert code == 0 and "1 ok, 0 skipped" in err, err
    assert probe(out / "clip.annotated.mp4").video_codec == "mpeg4"


def write_index(path, inputs):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, INDEX_HEADER)
        writer.writeheader()
        writer.writerows({k: "" for k in INDEX_HEADER} | {"input": str(i), "status": "ok"} for i in inputs)


def test_a_batch_into_another_batchs_folder_is_refused(tmp_path, capsys):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    shutil.copy(SAMPLE, folder / "clip.mp4")
    write_index(out / "index.csv", [tmp_path / "elsewhere" / "clip.mp4"])
    before = (out / "index.csv").read_bytes()
    code, err = run(capsys, "batch", str(folder), "-o", str(out), "--no-video", "--workers", "1")
    assert code == 2 and "another batch" in one_error_line(err)
    assert (out / "index.csv").read_bytes() == before and sorted(p.name for p in out.iterdir()) == ["index.csv"]


def test_a_users_own_index_csv_is_not_replaced(tmp_path, capsys):
    shutil.copy(SAMPLE, tmp_path / "clip.mp4")
    (tmp_path / "index.csv").write_text("recording,date\nclip.mp4,2024-05-01\n")
    code, err = run(capsys, "batch", str(tmp_path), "-o", str(tmp_path), "--no-video", "--workers", "1")
    assert code == 2 and "index.csv" in one_error_line(err)
    assert (tmp_path / "index.csv").read_text() == "recording,date\nclip.mp4,2024-05-01\n"


@pytest.mark.integration
def test_a_batch_rerun_of_its_own_folder_is_not_refused_and_another_inputs_result_is_kept(tmp_path, capsys, media):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "clip.mp4")
    shutil.copy(SAMPLE, folder / "second.mp4")
    other = tmp_path / "other" / "clip.mp4"
    other.parent.mkdir()
    shutil.copy(media("single_face.mp4"), other)
    assert run(capsys, "analyze", str(other), "-o", str(out), "--no-video", "--every", "30", "-q")[0] == 0
    argv = ["batch", str(folder), "-o", str(out), "--no-video", "--every", "30", "--workers", "1"]
    code, err = run(capsys, *argv)
    assert code == 1 and "1 ok, 0 skipped, 1 failed" in err and "choose another -o" in err, err
    assert read_json(out / "clip.json")["input"]["absolute_path"] == str(other.resolve())  # not replaced
    code, err = run(capsys, *argv)  # its own index: a rerun of the same batch goes ahead
    assert code == 1 and "0 ok, 1 skipped, 1 failed" in err, err


@pytest.mark.integration
def test_a_full_disk_for_the_index_tries_every_input_and_says_so(tmp_path, capfd, monkeypatch):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(SAMPLE, folder / name)
    opened = fill_disk(monkeypatch, out, ".csv", 0)  # in this process: the driver's index, not the workers' CSVs
    capfd.readouterr()
    from fervideo.cli import main

    code = main(["batch", str(folder), "-o", str(out), "--no-video", "--every", "30", "--workers", "1", "-q"])
    err = capfd.readouterr().err
    assert opened and code == 1
    line = one_error_line(err)
    assert "index.csv" in line and "No space left on device" in line and "internal error" not in line
    assert (out / "a.json").is_file() and (out / "b.json").is_file()  # every input was tried
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
