"""What the command line writes: plain lines on a pipe; bold and colour, a progress line and a status block
redrawn in place only on a terminal. Our own, in place of rich and pygments: 14 MB of the lean install (issue 34).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import textwrap
import time
import unicodedata
from collections.abc import Sequence
from typing import TextIO

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_PARTS = re.compile(rf"({ANSI.pattern})")  # the group keeps each code as a part of its own in re.split
NUMBER = re.compile(r"[-+]?\d[\d,]*(\.\d+)?%?")  # 32, 61,451, 38.9%, -0.5: right-aligned in a table
BOLD, ITALIC, GREEN, YELLOW, MAGENTA, CYAN, GREY = "1", "3", "32", "33", "35", "36", "90"  # SGR codes


def width_of(text: str) -> int:
    """Terminal columns text takes: escape codes none, wide (CJK) characters two, combining marks none."""
    plain = ANSI.sub("", text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in plain)


def fit(text: str, width: int, ellipsis: str = "…") -> str:
    """text cut to width columns, with ellipsis where it was cut: a longer line would wrap and break a redraw."""
    if width_of(text) <= width:
        return text
    kept, room = [], width - width_of(ellipsis)
    for part in _PARTS.split(text):
        if ANSI.fullmatch(part):
            kept.append(part)
            continue
        for char in part:
            room -= width_of(char)
            if room < 0:
                return "".join(kept) + ellipsis + ("\x1b[0m" if ANSI.search(text) else "")
            kept.append(char)
    return "".join(kept)


class Stream:
    """sys.stdout or sys.stderr, looked up at each write: pytest and callers may swap them after import."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def file(self) -> TextIO:
        """The stream as sys holds it now."""
        return getattr(sys, self.name)

    @property
    def is_terminal(self) -> bool:
        """Whether a person watches it: progress and redrawn lines only then, never into a log or a pipe."""
        try:
            return self.file.isatty()
        except (AttributeError, ValueError):  # None (pythonw) or closed
            return False

    @property
    def color(self) -> bool:
        """Whether styles show: on a terminal, unless NO_COLOR is set (no-color.org) or it is a dumb one."""
        return self.is_terminal and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    @property
    def unicode(self) -> bool:
        """Whether the stream encodes box-drawing characters; else the progress bar is ASCII."""
        return "utf" in (getattr(self.file, "encoding", None) or "").lower()

    def size(self) -> tuple[int, int]:
        """The terminal's columns and lines (COLUMNS and LINES first, as shutil reads them); 80x24 where unknown."""
        try:
            columns, lines = os.get_terminal_size(self.file.fileno())
        except (AttributeError, ValueError, OSError):
            columns, lines = 0, 0
        columns, lines = columns or 80, lines or 24  # 0 where the terminal does not say, as under script(1)
        env = [os.environ.get(name, "") for name in ("COLUMNS", "LINES")]
        columns = int(env[0]) if env[0].isdigit() and int(env[0]) > 0 else columns
        return columns, int(env[1]) if env[1].isdigit() and int(env[1]) > 0 else lines

    def style(self, text: str, *codes: str) -> str:
        """text in the given SGR codes (BOLD, YELLOW, ...) where colour shows; as it is everywhere else."""
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes and text and self.color else text

    def bold(self, text: str) -> str:
        """text in bold where colour shows."""
        return self.style(text, BOLD)

    def write(self, text: str) -> None:
        """text as it is, flushed at once so that it keeps its place among the workers' and ffmpeg's output."""
        try:
            self.file.write(text)
            self.file.flush()
        except BrokenPipeError:  # `fervideo models | head -1`: the reader is gone; exit 1 with no traceback
            with contextlib.suppress(AttributeError, ValueError, OSError):  # so that the flush at exit is quiet
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.file.fileno())
            raise SystemExit(1) from None

    def print(self, text: str = "") -> None:
        """text and a newline; never parsed for markup, so that a name such as [draft] prints as it is."""
        self.write(f"{text}\n")

    def warning(self, message: str) -> None:
        """One `warning: ...` line, the word in yellow where colour shows."""
        self.print(f"{self.style('warning:', YELLOW)} {message}")

    def table(self, table: Table) -> None:
        """A Table, fitted to the terminal's width where there is one."""
        self.print("\n".join(table.lines(self)))


class Table:
    """Columns padded to their widest cell, two spaces apart, numbers right-aligned; no borders."""

    def __init__(self, *headers: str, title: str = "") -> None:
        self.headers, self.title, self.rows = list(headers), title, []

    def add_row(self, *cells: str) -> None:
        """One row, a string for each column; styled cells (Stream.bold) keep their alignment."""
        self.rows.append(list(cells))

    def lines(self, stream: Stream | None = None) -> list[str]:
        """The title, the header and the rows; on a terminal narrower than the table the last column wraps."""
        widths = [max(map(width_of, column)) for column in zip(self.headers, *self.rows, strict=True)]
        right = [_numeric([row[j] for row in self.rows]) for j in range(len(self.headers))]
        rows = [[stream.bold(h) if stream else h for h in self.headers], *self.rows]
        if stream is not None and stream.is_terminal:
            rows, widths[-1] = _wrap_last(rows, widths, stream.size()[0] - 1)
        out = [stream.style(self.title, ITALIC) if stream else self.title] if self.title else []
        for row in rows:
            cells = [_pad(cell, width, align) for cell, width, align in zip(row, widths, right, strict=True)]
            out.append("  ".join(cells).rstrip())
        return out


def _wrap_last(rows: list[list[str]], widths: list[int], columns: int) -> tuple[list[list[str]], int]:
    """The rows with their last cell wrapped under itself where the table is wider than columns; its new width."""
    # a narrower column would hold a word a line: past that the terminal wraps the rows instead
    room = max(columns - sum(widths[:-1]) - 2 * (len(widths) - 1), 12)
    if widths[-1] <= room:
        return rows, widths[-1]
    wrapped = []
    for row in rows:
        # only a cell that does not fit: a styled (header) cell's codes would count as text in textwrap
        pieces = (textwrap.wrap(row[-1], room) or [""]) if width_of(row[-1]) > room else [row[-1]]
        wrapped.append(row[:-1] + pieces[:1])
        wrapped += [[""] * (len(row) - 1) + [piece] for piece in pieces[1:]]
    return wrapped, room


def _numeric(cells: Sequence[str]) -> bool:
    """Whether a column holds numbers: each cell one, or '-' for none."""
    plain = [ANSI.sub("", cell).strip() for cell in cells]
    return any(NUMBER.fullmatch(c) for c in plain) and all(NUMBER.fullmatch(c) or c in ("-", "") for c in plain)


def _pad(cell: str, width: int, right: bool) -> str:
    gap = " " * (width - width_of(cell))
    return gap + cell if right else cell + gap


class Live:
    """A block of lines redrawn in place on a terminal and erased at the end; on a pipe it writes nothing."""

    def __init__(self, stream: Stream) -> None:
        self.stream, self.drawn, self.enabled = stream, 0, stream.is_terminal

    def __enter__(self) -> Live:
        return self

    def __exit__(self, *exc: object) -> None:
        self.update([])  # also on an error or Ctrl-C: its one line then starts at the left edge

    def update(self, lines: Sequence[str]) -> None:
        """Replace the block with lines, each cut to the terminal's width and their number to its height."""
        if not self.enabled or (not lines and not self.drawn):
            return
        columns, height = self.stream.size()
        lines = [fit(line, columns - 1, "…" if self.stream.unicode else "~") for line in lines[: max(height - 1, 1)]]
        up = f"\x1b[{self.drawn - 1}A" if self.drawn > 1 else ""  # from the block's last line to its first
        back = f"\r{up}" if self.drawn else ""
        self.stream.write(back + "\x1b[J" + "\n".join(lines))  # \x1b[J: erase to the end of the screen
        self.drawn = len(lines)


class Progress:
    """`clip.mp4 ━━━━━──── 40/150 12.3 frames/s 0:00:09` on a terminal, redrawn up to 10 times a second, then erased."""

    def __init__(self, stream: Stream, name: str, rate: str = "") -> None:
        self.live, self.name, self.rate = Live(stream), name, rate
        self.done, self.total = 0, None
        self.start = self.shown = time.perf_counter()

    def __enter__(self) -> Progress:
        self.live.update([self.line()])
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)

    def update(self, done: int, total: int | None = None) -> None:
        """done of total (None: not known yet); a total that done has passed was a wrong guess: the last stays."""
        if total and done <= total:
            self.total = total
        self.done = done
        if self.live.enabled and (now := time.perf_counter()) - self.shown >= 0.1:
            self.shown = now
            self.live.update([self.line()])

    def line(self) -> str:
        """The line as it is drawn now: name, bar (where it fits), count, rate and time left."""
        stream, elapsed = self.live.stream, max(time.perf_counter() - self.start, 1e-9)
        parts = [stream.style(f"{self.done}/{self.total or '?'}", GREEN)]
        if self.rate:
            parts.append(f"{self.done / elapsed:.1f} {self.rate}")
        left = max(self.total - self.done, 0) * elapsed / self.done if self.total and self.done else None
        parts.append(stream.style(_clock(left), CYAN))
        tail = " ".join(parts)
        room = min(stream.size()[0] - 1 - width_of(self.name) - width_of(tail) - 2, 40)
        return " ".join(part for part in (self.name, self._bar(room) if room >= 10 else "", tail) if part)

    def _bar(self, width: int) -> str:
        full, empty = ("━", "─") if self.live.stream.unicode else ("#", "-")
        filled = min(width, width * self.done // self.total) if self.total else 0
        stream = self.live.stream
        return stream.style(full * filled, MAGENTA) + stream.style(empty * (width - filled), GREY)


def _clock(seconds: float | None) -> str:
    """H:MM:SS, or -:--:-- while unknown."""
    if seconds is None:
        return "-:--:--"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


err = Stream("stderr")  # messages, warnings, progress: what a person reads
out = Stream("stdout")  # results of eval and models, so that they can be piped
