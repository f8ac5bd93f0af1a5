"""fervideo.core.journal: a group commit killed at any step is finished or undone by the next command in its folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fervideo.core.atomic import abandoned, prepare_out_dir
from fervideo.core.errors import OutputError
from tests.conftest import ROOT, SAMPLE
from tests.helpers import one_error_line, run

OLD = {"clip.csv": "old rows", "clip.annotated.mp4": "old video", "clip.json": "old summary"}
NEW = {"clip.csv": "new rows", "clip.episodes.csv": "new episodes", "clip.json": "new summary"}  # no video now

# Commits NEW over OLD (the old video stale) in a fresh process that kills itself with SIGKILL before its
# step number argv[2] (a rename or a removal; -1: none) and otherwise prints how many steps the commit took.
CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from fervideo.core.atomic import AtomicOutput, commit_group

    out, kill_at, steps = Path(sys.argv[1]), int(sys.argv[2]), [0]

    def step(real):
        def counted(*args, **kwargs):
            if steps[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            steps[0] += 1
            return real(*args, **kwargs)
        return counted

    staged = []
    for name, text in json.loads(sys.argv[3]).items():
        staged.append(AtomicOutput(out / name).hold())
        staged[-1].tmp.write_text(text)
    os.replace, os.unlink = step(os.replace), step(os.unlink)
    commit_group(staged, [out / "clip.annotated.mp4"])
    print(steps[0])
    """
)


def commit_killed(out: Path, kill_at: int) -> subprocess.CompletedProcess:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in OLD.items():
        (out / name).write_text(text)
    argv = [sys.executable, "-c", CHILD, str(out), str(kill_at), json.dumps(NEW)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


def visible(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in out.iterdir() if not p.name.startswith(".")}


def hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def steps_of_a_whole_commit(out: Path) -> int:
    done = commit_killed(out, -1)
    assert done.returncode == 0, done.stderr
    assert visible(out) == NEW and hidden(out) == []
    return int(done.stdout)


def test_a_commit_killed_at_any_step_leaves_the_old_set_or_the_new_set_once_recovered(tmp_path):
    steps = steps_of_a_whole_commit(tmp_path / "whole")
    assert steps >= 2 * len(NEW) + 1  # every rename of the group is one step (plus the journal's)
    for kill_at in range(steps):
        out = tmp_path / f"killed-{kill_at}"
        child = commit_killed(out, kill_at)
        assert child.returncode == -signal.SIGKILL, (kill_at, child.stderr)
        seen = visible(out)
        if "clip.json" in seen:  # before any recovery, a reader that trusts the JSON sees a whole set
            assert seen in (OLD, NEW), (kill_at, seen)
        prepare_out_dir(out)  # what analyze, batch, live, report and export do first
        assert visible(out) in (OLD, NEW), (kill_at, visible(out))
        if kill_at == 0:  # killed before its journal had a name: the commit had not begun
            assert visible(out) == OLD
            assert all(abandoned(out / name) for name in hidden(out))  # the staged files, as after any kill
            assert not any(name.startswith(".fervideo-commit") for name in hidden(out))
        else:
            assert hidden(out) == [], (kill_at, hidden(out))  # no moved-aside old file, no staged file, no journal


def test_a_commit_whose_new_file_is_gone_is_rolled_back_to_the_old_set(tmp_path):
    out = tmp_path / "out"
    assert commit_killed(out, 1 + len(OLD) + 1).returncode == -signal.SIGKILL  # journal, old set aside, one new in
    assert "clip.json" not in visible(out)
    staged_json = [name for name in hidden(out) if name.startswith(".clip.") and name.endswith(".partial.json")]
    journal = json.loads(next(out.glob(".fervideo-commit.*.json")).read_text())
    ours = [move[1] for move in journal["moves"] if move[0] == "clip.json"]
    assert ours and ours[0] in staged_json
    (out / ours[0]).unlink()  # removed by hand, say: the new set cannot be completed
    prepare_out_dir(out)
    assert visible(out) == OLD and hidden(out) == []


def test_the_journal_of_a_commit_still_going_is_left_alone(tmp_path):
    from fervideo.core import journal

    (tmp_path / "clip.csv").write_text("old rows")
    new = tmp_path / ".clip.1-0123abcd.partial.csv"
    new.write_text("new rows")
    moves = [journal.Move.of(tmp_path / "clip.csv", new, tmp_path / ".clip.1-4567abcd.partial.csv")]
    path = journal.begin(moves)  # this very process is the writer, alive
    assert journal.recover(tmp_path) == 0 and path.exists() and new.exists()
    journal.forward(moves)
    journal.end(path)
    assert visible(tmp_path) == {"clip.csv": "new rows"} and hidden(tmp_path) == []


def test_a_journal_from_another_machine_sharing_the_folder_is_left_to_it(tmp_path):
    out = tmp_path / "out"
    assert commit_killed(out, 3).returncode == -signal.SIGKILL
    (path,) = out.glob(".fervideo-commit.*.json")
    path.write_text(json.dumps(json.loads(path.read_text()) | {"host": "elsewhere.invalid"}))
    before = hidden(out)
    prepare_out_dir(out)
    assert hidden(out) == before  # its pid says nothing about a process over there


def test_the_batch_finishes_a_killed_commit_in_a_subfolder_before_removing_dead_runs_files(tmp_path):
    from fervideo.run.batch.driver import remove_partials

    out = tmp_path / "out"
    assert commit_killed(out / "sub", 1 + len(OLD)).returncode == -signal.SIGKILL  # the old set aside, none new in
    assert remove_partials(out) == 0  # each hidden file there was the killed commit's, and is back in its place
    assert visible(out / "sub") == NEW and hidden(out / "sub") == []


@pytest.fixture
def dead_pid():
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"version": 1, "host": os.uname().nodename, "moves": [["../../elsewhere", None, None, 0, 0]]}),
        json.dumps({"version": 1, "host": os.uname().nodename, "moves": [["clip.csv", "clip.json", None, 0, 0]]}),
    ],
)
def test_an_unreadable_journal_stops_the_command_with_one_line(tmp_path, capsys, dead_pid, content):
    out = tmp_path / "out"
    out.mkdir()
    (out / f".fervideo-commit.{dead_pid}-0123abcd.json").write_text(content)
    (out / "clip.csv").write_text("mine")
    with pytest.raises(OutputError, match="unreadable commit journal"):
        prepare_out_dir(out)
    code, err = run(capsys, "export", str(out / "clip.csv"), "--format", "eaf")
    assert code != 0 and "unreadable commit journal" in one_error_line(err)
    assert (out / "clip.csv").read_text() == "mine"  # nothing touched


# A real analyze, killed with SIGKILL once its group commit has moved the old JSON and CSV aside.
ANALYZE_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from fervideo.cli import main

    out, real, steps = Path(sys.argv[1]).resolve(), os.replace, [0]

    def replace(src, dst):
        if Path(dst).resolve().parent == out:
            if steps[0] == 3:  # the journal, the old JSON, then the rest of the old set: a folder without a JSON
                os.kill(os.getpid(), signal.SIGKILL)
            steps[0] += 1
        real(src, dst)

    os.replace = replace
    sys.exit(main(sys.argv[2:]))
    """
)


def test_report_on_a_folder_whose_analyze_was_killed_in_its_commit_sees_the_finished_result(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, "analyze", str(SAMPLE), "-o", str(out), "--every", "10")[0] == 0
    argv = [sys.executable, "-c", ANALYZE_KILLED, str(out), "analyze", str(SAMPLE), "-o", str(out), "--every", "5"]
    argv += ["--no-video", "--quiet"]
    child = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "demo.json" not in visible_names(out)
    code, err = run(capsys, "report", str(out / "demo.csv"))
    assert code == 0, err
    names = visible_names(out)
    assert names == ["demo.csv", "demo.episodes.csv", "demo.json", "demo.report.html", "demo.timeline.png"]
    assert json.loads((out / "demo.json").read_text())["sampling"]["every"] == 5  # the killed run's, finished
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def visible_names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
