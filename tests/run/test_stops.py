"""A stop (Ctrl-C) at the moments between two steps: while the outputs open, and between the renames of a commit."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path

import pytest

from fervideo.core import atomic, signals
from fervideo.outputs import sinks
from fervideo.outputs.group import AnnotatedSink
from fervideo.run import job
from fervideo.run.job import analyze_file
from tests.helpers import make_step_video, read_json, scripted_analyzer

NAMES = ["step.annotated.mp4", "step.csv", "step.episodes.csv", "step.json"]


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_step_video(tmp_path_factory.mktemp("clip") / "step.mp4")


def ffmpeg_children() -> list[int]:
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        for pid in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:  # it exited meanwhile
                continue
            if "ffmpeg" in command:
                found.append(int(pid))
    return found


def test_a_stop_after_the_video_writer_started_but_before_it_was_entered(video, tmp_path, monkeypatch):
    opened = job._open_sinks

    def stopped_in_between(*args):
        for sink in opened(*args):
            if isinstance(sink, AnnotatedSink):  # made: its ffmpeg runs; its owner has not taken it yet
                raise KeyboardInterrupt
            yield sink

    monkeypatch.setattr(job, "_open_sinks", stopped_in_between)
    with pytest.raises(KeyboardInterrupt):
        analyze_file(video, tmp_path, scripted_analyzer())
    assert ffmpeg_children() == []  # killed, not left to write its file once this process exits
    assert list(tmp_path.iterdir()) == []


def test_a_stop_just_after_the_csv_file_was_created(video, tmp_path, monkeypatch):
    made = sinks.CsvSink.__init__

    def stopped_after_open(self, final):
        made(self, final)
        raise KeyboardInterrupt  # its temporary file exists; nobody holds the writer yet

    monkeypatch.setattr(sinks.CsvSink, "__init__", stopped_after_open)
    with pytest.raises(KeyboardInterrupt):
        analyze_file(video, tmp_path, scripted_analyzer())
    assert list(tmp_path.iterdir()) == []


def test_a_ctrl_c_between_two_renames_of_a_commit_waits_for_the_whole_group(video, tmp_path, monkeypatch, plain_ctrl_c):
    first = analyze_file(video, tmp_path, scripted_analyzer())
    replace, calls = os.replace, []

    def interrupted_replace(src, dst):
        replace(src, dst)
        calls.append(dst)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: Python's handler raises KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted_replace)
    # another thread alive, as in a real run: the kernel hands a process's signal to any thread not masking it
    done = threading.Event()
    bystander = threading.Thread(target=done.wait)
    bystander.start()
    try:
        with pytest.raises(KeyboardInterrupt):  # delivered once the group is in place
            analyze_file(video, tmp_path, scripted_analyzer(smooth=0.5))
    finally:
        done.set()
        bystander.join()
    monkeypatch.undo()
    assert len(calls) > 2  # the commit ran on past the Ctrl-C
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES  # no hidden file, old or new
    second = read_json(tmp_path / "step.json")
    assert second["smoothing"]["seconds"] == 0.5 != first["smoothing"]["seconds"]


def test_guarded_discards_the_writers_made_inside_only_on_a_failure(tmp_path):
    with atomic.guarded():
        kept = atomic.AtomicOutput(tmp_path / "kept.txt")
        kept.tmp.write_text("done")
        kept.commit()
    with pytest.raises(RuntimeError), atomic.guarded():
        lost = atomic.AtomicOutput(tmp_path / "lost.txt")
        lost.tmp.write_text("half")
        raise RuntimeError("failed before its owner took it")
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_deferred_delivers_a_held_stop_as_its_handler_would_on_exit(signum, plain_ctrl_c):
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: seen.append(s)) if signum == signal.SIGTERM else None
    try:
        raised = pytest.raises(KeyboardInterrupt) if signum == signal.SIGINT else contextlib.nullcontext()
        with raised, signals.deferred():
            os.kill(os.getpid(), signum)
            for _ in range(1000):  # bytecodes enough for Python to run the stand-in handler
                pass
            seen.append("inside")
        assert seen == (["inside"] if signum == signal.SIGINT else ["inside", signal.SIGTERM])
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def test_a_stop_in_the_analysis_stops_the_reading_thread_before_the_source_can_close(video, monkeypatch):
    from fervideo.engine.source import VideoSource

    analyzer = scripted_analyzer()

    def stopped(*args):
        raise KeyboardInterrupt  # raised in run()'s own frame, not in the prefetch generator's

    monkeypatch.setattr(analyzer, "_track", stopped)
    with VideoSource(video) as source:
        try:
            for _ in analyzer.run(source):
                pass
        except KeyboardInterrupt as exc:
            caught = exc  # noqa: F841 (its traceback keeps run()'s frame, and what it holds, alive)
            readers = [t for t in threading.enumerate() if t.name == "fervideo-prefetch"]
    assert readers == []  # a reader still running now would decode from a source about to be released


def test_a_stop_after_the_commit_keeps_the_result_and_says_so(tmp_path, monkeypatch, capsys):
    from fervideo.cli import main
    from tests.conftest import SAMPLE

    def stopped_after(*args):
        commit(*args)
        raise KeyboardInterrupt  # the result is in place; the run has not returned yet

    def stopped_before(*args):
        raise KeyboardInterrupt  # nothing of this run is in place

    commit = job.commit_group
    monkeypatch.setattr(job, "commit_group", stopped_after)
    out = tmp_path / "out"
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--every", "10", "--no-video"]) == 130
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == f"interrupted; the finished results in {out} were kept, unfinished outputs were removed"
    assert read_json(out / "demo.json")["counts"]["frames_analysed"] > 0
    monkeypatch.setattr(job, "commit_group", stopped_before)
    assert main(["analyze", str(SAMPLE), "-o", str(tmp_path / "again"), "--every", "10", "--no-video"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted; unfinished outputs were removed"
