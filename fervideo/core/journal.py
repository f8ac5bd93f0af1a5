"""The journal of a group commit: written before its first rename and removed after its last, so that a commit cut
short by a crash (kill -9, power loss) is finished or undone by the next fervideo command that writes in the folder.

The journal, `.fervideo-commit.PID-RANDOM.json`, names each output's final file, its staged new file and where the
old one is moved aside. Recovery rolls forward when every new file is still there (staged, or already in place),
else back to the old set; either way no moved-aside or staged file of the commit is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from fervideo.core.errors import OutputError

NAME = re.compile(r"\.fervideo-commit\.(\d+)-[0-9a-f]{8}(\.partial)?\.json")  # the journal, or its temporary
VERSION = 1


def gone(pid: int) -> bool:
    """Whether process pid has ended; one killed but not yet reaped (a zombie) has."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # alive under another user; or no pid at all
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False  # still running


@dataclass(frozen=True)
class Move:
    """One file of a group: its final path, the staged new file (None for an old output the new set drops) and the
    hidden name its old file is moved aside to (None when there was none)."""

    final: Path
    new: Path | None
    aside: Path | None
    ino: int = 0  # the new file's inode and size, which a rename keeps: they tell it, once in place, from the old
    size: int = 0

    @classmethod
    def of(cls, final: Path, new: Path | None, aside: Path | None) -> Move:
        """A move, with the staged file's identity taken now."""
        st = os.stat(new) if new is not None else None
        return cls(final, new, aside, st.st_ino if st else 0, st.st_size if st else 0)

    def placed(self) -> bool:
        """Whether the new file is already under the final name."""
        try:
            st = os.stat(self.final)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENAMETOOLONG):  # too long: a name no file can have was never placed
                return False
            raise
        return self.new is not None and (st.st_ino, st.st_size) == (self.ino, self.size)


def begin(moves: list[Move]) -> Path:
    """Write the journal of moves into their folder, durably, before the commit's first rename; returns its path."""
    folder = moves[0].final.parent
    if any(path.parent != folder for m in moves for path in (m.final, m.new, m.aside) if path is not None):
        raise ValueError("a group commit writes into one folder")  # a caller's mistake, never a user's
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path, tmp = folder / f".fervideo-commit.{tag}.json", folder / f".fervideo-commit.{tag}.partial.json"
    entries = [[m.final.name, m.new and m.new.name, m.aside and m.aside.name, m.ino, m.size] for m in moves]
    data = json.dumps({"version": VERSION, "host": socket.gethostname(), "moves": entries}).encode()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync(folder)
    return path


def forward(moves: list[Move]) -> None:
    """Put the new set in place from wherever a commit stopped, then remove the old files moved aside.

    The old files go aside in reverse order and the new ones come in order, so the file placed last (the JSON,
    which marks a complete result) is the first old one to go: a reader never finds a JSON beside a half set.
    """
    new, dropped = [m for m in moves if m.new is not None], [m for m in moves if m.new is None]
    for m in list(reversed(new)) + dropped:
        if m.aside is not None and os.path.lexists(m.final) and not m.placed():
            os.replace(m.final, m.aside)
    for m in new:
        if not m.placed():
            os.replace(m.new, m.final)
    for m in moves:
        if m.aside is not None:
            m.aside.unlink(missing_ok=True)


def back(moves: list[Move]) -> None:
    """Undo a commit from wherever it stopped: remove the new files, then put the old ones back (the JSON last)."""
    new, dropped = [m for m in moves if m.new is not None], [m for m in moves if m.new is None]
    for m in reversed(new):
        if m.placed():
            m.final.unlink()
        m.new.unlink(missing_ok=True)
    for m in dropped + new:
        if m.aside is not None and m.aside.exists():
            os.replace(m.aside, m.final)


def end(path: Path) -> None:
    """Remove the journal once its commit is complete, or completely undone."""
    _sync(path.parent)  # the renames reach the disk before the journal that would repair them leaves it
    path.unlink()


def recover(folder: Path) -> int:
    """Finish or undo every commit in folder whose process died during it; returns how many there were."""
    done = 0
    for path in sorted(folder.glob(".fervideo-commit.*.json")):
        match = NAME.fullmatch(path.name)
        if match is None or not gone(int(match.group(1))):
            continue
        try:
            if match.group(2):  # a journal that never got its name: its commit had not begun
                path.unlink(missing_ok=True)
            else:
                done += _recover_one(path)
        except OSError as exc:
            raise OutputError(
                f"cannot finish the interrupted commit {path}: {exc.strerror or exc}; fix that, then run again"
            ) from exc
    return done


def recover_tree(root: Path) -> int:
    """recover() in root and in every folder under it that holds a journal."""
    return sum(recover(folder) for folder in sorted({path.parent for path in root.rglob(".fervideo-commit.*.json")}))


def _recover_one(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # another command in this folder recovered it meanwhile
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two commands starting at once in one folder recover it once
        if os.fstat(fd).st_nlink == 0:
            return 0
        with open(fd, "rb", closefd=False) as f:
            host, moves = _read(path, f.read())
        if host != socket.gethostname():  # written on another machine sharing the folder, whose pids these are not
            return 0
        if all(m.new is None or m.placed() or m.new.exists() for m in moves):
            forward(moves)
        else:  # a new file is missing (removed by hand, say): the old set is the only complete one
            back(moves)
        end(path)
        return 1
    finally:
        os.close(fd)


def _read(path: Path, raw: bytes) -> tuple[str, list[Move]]:
    """The host and the moves of a journal, every name checked to be a plain file name in its folder."""

    def name(value: object, hidden: bool) -> Path | None:
        if value is None and hidden:
            return None
        if not isinstance(value, str) or value in ("", ".", "..") or "/" in value or "\0" in value:
            raise ValueError(f"bad file name {value!r}")
        if hidden and not (value.startswith(".") and ".partial" in value):
            raise ValueError(f"{value!r} is not a temporary name")
        return path.parent / value

    try:
        data = json.loads(raw)
        if data["version"] != VERSION:
            raise ValueError(f"version {data['version']}")
        moves = [Move(name(f, False), name(n, True), name(a, True), int(i), int(s)) for f, n, a, i, s in data["moves"]]
        return str(data["host"]), moves
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            f"{path}: unreadable commit journal ({exc}); remove it and check the files beside it"
        ) from exc


def _sync(folder: Path) -> None:
    """Make the renames in folder durable; a file system that cannot sync a folder has nothing to do."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
