"""fervideo.cli.console, which replaced rich (issue 34): aligned tables, plain text on a pipe, styles and redrawn
lines only on a terminal, and no markup read from what it prints."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys

import pytest

from fervideo.cli.console import ANSI, Live, Progress, Stream, Table, err, fit, out, width_of
from tests.conftest import ROOT


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a person's would."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


@pytest.fixture
def tty(monkeypatch):
    """err writing to a 40-column terminal with colour; what was written to it."""
    term = Terminal()
    # on the class, not sys.stderr: pytest's capture sets sys.stderr again after the fixtures ran
    monkeypatch.setattr(Stream, "file", property(lambda self: term if self.name == "stderr" else sys.stdout))
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("LINES", "24")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    return term


def models_table() -> Table:
    table = Table("model", "parameters", "val accuracy", title="the models")
    table.add_row("cnn", "61,451", "38.9%")
    table.add_row("fernet_plus (default)", "2,639,479", "88.3% (FER+)")
    table.add_row("vit_b16", "-", "-")
    return table


def test_a_table_pads_its_columns_and_right_aligns_numbers():
    title, header, *rows = models_table().lines()
    assert title == "the models"
    assert header == "model                  parameters  val accuracy"
    assert rows == [
        "cnn                        61,451  38.9%",
        "fernet_plus (default)   2,639,479  88.3% (FER+)",  # a column with words in it stays left-aligned
        "vit_b16                         -  -",
    ]


def test_a_styled_cell_keeps_its_alignment(tty):
    table = Table("true", "happy", "sad")
    table.add_row("happy", err.bold("12"), "3")
    table.add_row("sad", "4", err.bold("100"))
    lines = [ANSI.sub("", line) for line in table.lines(err)]
    assert lines == ["true   happy  sad", "happy     12    3", "sad        4  100"]


def test_on_a_pipe_nothing_is_styled_or_redrawn(capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    err.warning("the source is truncated")
    err.print(f"{err.bold('clip.mp4')}: 3 frames")
    out.table(models_table())
    with Live(err) as live:
        live.update(["0/2 inputs done", "  working on a.mp4"])
    with Progress(err, "clip.mp4", rate="frames/s") as bar:
        bar.update(5, 10)
    captured = capsys.readouterr()
    assert captured.err == "warning: the source is truncated\nclip.mp4: 3 frames\n"
    assert "\x1b" not in captured.out and "\r" not in captured.out and "fernet_plus (default)" in captured.out


def test_text_is_printed_as_it_is_never_read_as_markup(capsys):
    err.print("[bold]x[/] [draft] :smile: x[b]y.mp4")
    assert capsys.readouterr().err == "[bold]x[/] [draft] :smile: x[b]y.mp4\n"


def test_on_a_terminal_styles_show_unless_no_color_is_set(tty, monkeypatch):
    err.warning("late")
    assert tty.getvalue() == "\x1b[33mwarning:\x1b[0m late\n"
    monkeypatch.setenv("NO_COLOR", "1")
    assert err.bold("x") == "x" and err.is_terminal


def test_the_progress_line_is_redrawn_in_place_fits_the_terminal_and_is_erased(tty, monkeypatch):
    ticks = iter(range(0, 1000))
    monkeypatch.setattr("fervideo.cli.console.time.perf_counter", lambda: next(ticks))  # a second a call
    monkeypatch.setenv("COLUMNS", "60")
    with Progress(err, "clip.mp4", rate="frames/s") as bar:
        bar.update(10, 100)
        bar.update(150, 100)  # past a wrong estimate: the total stays
    written = tty.getvalue()
    drawn = [ANSI.sub("", line) for line in written.split("\r") if ANSI.sub("", line)]
    assert "\n" not in written and len(drawn) == 3
    assert drawn[0].startswith("clip.mp4 ─") and drawn[0].endswith(" 0/? 0.0 frames/s -:--:--")
    # 10 of 100 drawn 3 s in (3 clock reads): 3.3 frames/s, 27 s to go
    assert re.fullmatch(r"clip\.mp4 ━━─+ 10/100 3\.3 frames/s 0:00:27", drawn[1]), drawn[1]
    assert "━━━━" in drawn[2] and "─" not in drawn[2] and "150/100" in drawn[2]
    assert all(width_of(line) < 60 for line in drawn)
    assert written.endswith("\r\x1b[J")  # erased: the next line starts at the left edge


def test_the_live_block_moves_back_over_all_its_lines(tty):
    with Live(err) as live:
        live.update(["1/3 inputs done", "  working on a.mp4", "  working on b.mp4"])
        live.update(["2/3 inputs done", "  working on " + "x" * 60])
    parts = tty.getvalue().split("\r")
    assert parts[1].startswith("\x1b[2A\x1b[J2/3")  # up from the third line to the first, then erase
    assert parts[2] == "\x1b[1A\x1b[J"  # at the end: up over two lines and erase them
    assert max(width_of(line) for line in parts[1].split("\n")) < 40 and parts[1].endswith("…")


def test_the_last_column_wraps_under_itself_on_a_narrow_terminal(tty):
    table = Table("model", "description")
    table.add_row("cnn", "the study's LeNet-style CNN, 32x32 grey")
    lines = [ANSI.sub("", line) for line in table.lines(err)]
    assert all(width_of(line) < 40 for line in lines) and len(lines) > 2
    assert lines[1].startswith("cnn    the study's") and lines[2].startswith("       ")
    assert Table("model", "description").lines(Stream("stdout")) == ["model  description"]  # a pipe: never wrapped


def test_fit_counts_wide_characters_and_closes_codes():
    assert width_of("表情") == 4 and width_of("\x1b[1mab\x1b[0m") == 2
    assert fit("表情表情", 5) == "表情…" and fit("abc", 3) == "abc"
    assert fit("\x1b[1mabcdef\x1b[0m", 4) == "\x1b[1mabc…\x1b[0m"


@pytest.mark.parametrize("no_color", [False, True])
def test_models_on_a_pseudo_terminal(no_color):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"COLUMNS": "100", "TERM": "xterm"}
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "fervideo", "models"], stdout=follower, stderr=subprocess.DEVNULL, cwd=ROOT, env=env
        )
        os.close(follower)
        text = b""
        while chunk := _read(leader):
            text += chunk
    finally:
        os.close(leader)
    shown = text.decode()
    lines = shown.replace("\r\n", "\n").splitlines()
    assert proc.returncode == 0 and "fernet_plus (default)" in shown
    assert all(width_of(line) < 100 for line in lines) and len(lines) > 8  # the descriptions wrap
    assert ("\x1b[1mmodel\x1b[0m" in lines[0]) is not no_color and ("\x1b" not in shown) is no_color


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # Linux: EIO once the follower is closed and drained
        return b""
