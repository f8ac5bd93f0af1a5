"""Leaf I/O: every file fervideo writes is written under a hidden temporary name and takes its final name only
when complete, alone or together with the other outputs of its run."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from fervideo.core import journal
from fervideo.core.errors import OutputError
from fervideo.core.paths import shortened
from fervideo.core.signals import deferred

NAME_MAX = 255  # bytes in one file name, on every file system fervideo writes to
PARTIAL = re.compile(r"\.(\d+)-[0-9a-f]{8}\.partial[^/]*$")  # .NAME.PID-RANDOM.partial.SUFFIX
_made: ContextVar[list[AtomicOutput] | None] = ContextVar("fervideo_outputs_made", default=None)
_committed: list[Path] = []  # every group this process put in place, so a late stop can say what was kept


def partial_name(final: str) -> str:
    """The hidden temporary name of final, carrying the writer's pid; the name part shortened to fit NAME_MAX."""
    stem, dot, suffix = final.rpartition(".") if "." in final else (final, "", "")
    tail = f".{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{dot}{suffix}"
    room = NAME_MAX - 1 - len(tail.encode())
    return "." + stem.encode()[:room].decode(errors="ignore") + tail


def abandoned(path: Path) -> bool:
    """Whether path is a temporary file of a fervideo process that is no longer running."""
    match = PARTIAL.search(path.name)
    if match is None or not path.name.startswith("."):
        return False
    return journal.gone(int(match.group(1)))


def commit_group(staged: list[AtomicOutput], stale: list[Path] = ()) -> None:
    """Rename finished outputs into place as one group: the complete new set, or else the old set as it was.

    The old files are moved aside first (a file that cannot be moved, such as an immutable one, stops the
    commit before anything changed); stale names old outputs the new set does not replace, removed with it.
    A journal written first lets the next command in the folder finish or undo a commit that a crash cut short.
    """
    refuse_special([output.final for output in staged] + list(stale))
    with deferred():  # a Ctrl-C between two renames would leave half a group, and the old set moved aside
        _commit_group(staged, stale)


def _commit_group(staged: list[AtomicOutput], stale: list[Path]) -> None:
    def aside(final: Path) -> Path | None:
        return final.with_name(partial_name(final.name)) if os.path.lexists(final) else None

    moves = [journal.Move.of(o.final, o.tmp, aside(o.final)) for o in staged]
    moves += [journal.Move(path, None, aside(path)) for path in stale if os.path.lexists(path)]
    if not moves:
        return
    path = journal.begin(moves)
    try:
        journal.forward(moves)
    except OSError:
        with contextlib.suppress(OSError):  # should undoing fail too, the journal stays for the next command
            journal.back(moves)
            journal.end(path)
        raise
    with contextlib.suppress(OSError):  # the new set is in place; a journal left behind is cleared by the next run
        journal.end(path)
    _committed.extend(output.final for output in staged)


def committed() -> list[Path]:
    """The final paths of every group of outputs this process has committed, oldest first."""
    return list(_committed)


def record_committed(finals: list[Path]) -> None:
    """Count a group that another process (a batch worker) committed for this one as committed here."""
    _committed.extend(finals)


class AtomicOutput:
    """A temporary path beside the final one; close() renames it into place, discard() removes it."""

    def __init__(self, final: Path) -> None:
        self.final = Path(final)
        if (size := len(os.fsencode(self.final.name))) > NAME_MAX:  # refused before any of a run's files is written
            raise OutputError(
                f"{shortened(self.final.name)}: this output's name would be {size} bytes, over the "
                f"{NAME_MAX} a file name may have; give the input a shorter name"
            )
        self.tmp = self.final.with_name(partial_name(self.final.name))
        self.held = False
        if (made := _made.get()) is not None:  # known to guarded() before its file exists
            made.append(self)

    def hold(self) -> AtomicOutput:
        """Leave the finished file under its temporary name until commit(), to rename several together."""
        self.held = True
        return self

    def commit(self) -> None:
        """Give the finished file its final name, replacing an older result."""
        refuse_special([self.final])
        os.replace(self.tmp, self.final)

    def discard(self) -> None:
        """Remove the unfinished file."""
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        if exc_type is None:
            try:
                self.close()
                if not self.held:
                    self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.abort()
            self.discard()

    def close(self) -> None:
        """Finish writing; subclasses flush and verify here."""

    def abort(self) -> None:
        """Stop writing after an error; subclasses release handles here."""
        self.close_quietly()

    def close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # already failing; the first error is the one to report
            self.close()


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Abort and discard every AtomicOutput made inside if the block fails or is stopped.

    A stop can land between a writer's creating its file (or starting ffmpeg) and its owner's entering it into a
    with block: the owner's clean-up never sees that writer, this one does.
    """
    made: list[AtomicOutput] = []
    token = _made.set(made)
    try:
        yield
    except BaseException:
        with deferred():  # a second Ctrl-C must not cut the clean-up short
            for output in reversed(made):
                with contextlib.suppress(Exception):  # one writer that fails to let go must not keep the rest
                    output.abort()
                    output.discard()
        raise
    finally:
        _made.reset(token)


def prepare_out_dir(out_dir: str | Path) -> Path:
    """Create the output folder if needed, check that files can be written in it, and finish any commit in it
    that a crash cut short (journal.recover), so that nothing here sees half a group."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with deferred():  # stopped halfway, the recovery would run again next time, but a reader could see a mix
            journal.recover(out_dir)
        probe = out_dir / f".fervideo-probe-{uuid.uuid4().hex}"
        with deferred():  # stopped between the two, the probe would stay behind
            probe.touch()
            probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {out_dir}: {exc.strerror or exc}") from exc
    return out_dir


def write_bytes(final: Path, data: bytes) -> None:
    """Write a whole file atomically."""
    out = AtomicOutput(final)
    try:
        out.tmp.write_bytes(data)
        out.commit()
    finally:
        out.discard()


def special_kind(path: Path) -> str | None:
    """What path is when it is there but no regular file ("a directory", "a FIFO", ...); None otherwise."""
    try:
        mode = os.stat(path).st_mode  # through a link: a link to /dev/null names the device
    except (OSError, ValueError):  # nothing there (a dangling link included): a new file is welcome
        return None
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
    }
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in kinds.items() if test(mode)), "not a regular file")


def refuse_special(finals: list[Path]) -> None:
    """Raise OutputError before a rename would replace something other than a file (a device, a FIFO, a folder)."""
    for final in finals:
        if (kind := special_kind(final)) is not None:
            raise OutputError(f"{final} is {kind}, not a file fervideo may replace; move it or write elsewhere")
