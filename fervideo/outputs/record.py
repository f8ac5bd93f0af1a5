"""The JSON's record of a result's files, kept by the commands that add files to a result afterwards.

`fervideo report` and `fervideo export` write beside a CSV that analyze wrote; they add what they write to the
`files` (and `outputs`) of the JSON there, rewritten in the same group commit, so that a later run into the folder
knows those files as a fervideo run's own and replaces them (fervideo/run/owned.py) instead of stopping at them.
Written to another folder (-o), they list them in that folder's FOLDER_RECORD instead (Owners).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from fervideo.core.atomic import AtomicOutput
from fervideo.core.errors import OutputError

# report's and export's record of what they wrote into a folder where no result's JSON records it (an -o folder)
FOLDER_RECORD = ".fervideo-files.json"
ABOUT = "the files that fervideo report and export wrote here; a later one replaces them only while unchanged"


class Record:
    """The JSON of the result that a command adds files to; inert when the files go to another folder."""

    def __init__(self, json_path: Path, out_dir: Path) -> None:
        self.path = json_path
        self.before: bytes | None = None
        if json_path.parent.resolve() != Path(out_dir).resolve():
            return  # another folder: no JSON there speaks for this result, and none is made up
        try:
            self.before = json_path.read_bytes()
            summary = json.loads(self.before)
        except (OSError, ValueError, RecursionError):  # RecursionError: a JSON nested too deep
            self.before = None
            return
        if not isinstance(summary, dict) or "fervideo_version" not in summary:
            self.before = None  # a JSON that no fervideo run wrote is left as it is

    def summary(self) -> dict:
        """The JSON as the command found it."""
        return json.loads(self.before) if self.before is not None else {}

    def check(self, finals: list[Path]) -> None:
        """Raise OutputError when a file at one of finals is not one a fervideo run recorded in the JSON.

        A JSON from before `files` recorded no such list: its folder keeps the older rule, the files replaced.
        """
        files = self.summary().get("files")
        if not isinstance(files, list):
            return
        for final in finals:
            if os.path.lexists(final) and final.name not in files:
                raise OutputError(
                    f"{final} is in the way: no fervideo run wrote it; move it away or choose another -o folder"
                )

    def stage(self, written: dict[str, Path], extra: list[Path]) -> list[AtomicOutput]:
        """The JSON rewritten to record written (kind: path, also in `outputs`) and extra (in `files` only), under
        a temporary name for the caller's group commit; nothing when there is no JSON to record them in."""
        if self.before is None:
            return []
        summary = self.summary()
        outputs = summary.get("outputs") if isinstance(summary.get("outputs"), dict) else {}
        files = summary.get("files")
        if not isinstance(files, list):  # an older run's files were its outputs: they stay its own
            files = [Path(str(path)).name for path in outputs.values()] + [self.path.name]
        summary["outputs"] = {**outputs, **{kind: str(path) for kind, path in written.items()}}
        names = [path.name for path in [*written.values(), *extra]]
        summary["files"] = sorted({name for name in files if isinstance(name, str)} | set(names))
        output = AtomicOutput(self.path)
        output.tmp.write_text(json.dumps(summary, indent=2) + "\n")
        return [output]

    def verify(self, finals: list[Path]) -> None:
        """Just before the commit: raise OutputError when the JSON changed meanwhile (a new analysis: its record
        must not be replaced by the old one) or a file no run recorded appeared at one of finals."""
        if self.before is None:
            return
        try:
            now = self.path.read_bytes()
        except OSError:
            now = None
        if now != self.before:
            raise OutputError(f"{self.path} changed meanwhile (a new analysis?); run the command again")
        self.check(finals)


class Owners:
    """Whose files are at the names that report and export write. Beside the result's JSON, its `files` say
    (Record); in any other folder, FOLDER_RECORD: the files that report and export wrote there, each with its size
    and modification time. A file it does not list, or one changed since, is a user's: never replaced."""

    def __init__(self, json_path: Path, out_dir: Path) -> None:
        self.result = Record(json_path, out_dir)
        self.local = self.result.before is None  # no fervideo JSON in the folder speaks for its files
        self.path = Path(out_dir) / FOLDER_RECORD
        self.before = _read_record(self.path) if self.local else None

    def check(self, finals: list[Path]) -> None:
        """Raise OutputError when a file at one of finals is not one that fervideo wrote there, unchanged since."""
        if not self.local:
            self.result.check(finals)
            return
        files = self._files()
        for final in finals:
            if os.path.lexists(final) and files.get(final.name) != _identity(final):
                raise OutputError(
                    f"{final} is in the way: fervideo did not write it there, or it changed since; "
                    "move it away or choose another -o folder"
                )

    def stage(self, written: dict[str, Path], staged: list[AtomicOutput]) -> list[AtomicOutput]:
        """The record (the JSON, or FOLDER_RECORD) rewritten to list the staged files too, under a temporary name
        for the caller's group commit."""
        if not self.local:
            return self.result.stage(written, [output.final for output in staged])
        folder = self.path.parent
        # a listed file that is gone or was changed is no longer fervideo's: a user's file at its name stays safe
        files = {name: key for name, key in self._files().items() if _identity(folder / name) == key}
        files |= {output.final.name: key for output in staged if (key := _identity(output.tmp))}  # a rename keeps both
        entries = {name: {"size_bytes": size, "mtime_ns": mtime} for name, (size, mtime) in sorted(files.items())}
        output = AtomicOutput(self.path)
        output.tmp.write_text(json.dumps({"about": ABOUT, "files": entries}, indent=2) + "\n")
        return [output]

    def verify(self, finals: list[Path]) -> None:
        """Just before the commit: raise OutputError when the record changed meanwhile (another report or export
        into the folder: its record must not be lost) or a file fervideo did not write appeared at one of finals."""
        if not self.local:
            self.result.verify(finals)
            return
        if _read_record(self.path) != self.before:
            raise OutputError(f"{self.path} changed meanwhile (another report or export here?); run the command again")
        self.check(finals)

    def _files(self) -> dict[str, tuple[int, int]]:
        """The record's files and their (size, modification time); OutputError when the file is not fervideo's."""
        files = _record_files(self.before, self.path)
        return {
            name: (entry.get("size_bytes"), entry.get("mtime_ns"))
            for name, entry in files.items()
            if isinstance(entry, dict) and name not in ("", ".", "..") and "/" not in name
        }


def _record_files(raw: bytes | None, path: Path) -> dict:
    """The `files` of FOLDER_RECORD's bytes (none when there is no record); OutputError when they are not ours."""
    if raw is None:
        return {}
    try:
        files = json.loads(raw).get("files")
    except (ValueError, RecursionError, AttributeError):  # not JSON, or JSON but no object
        files = None
    if not isinstance(files, dict):
        raise _not_a_record(path)
    return files


def _read_record(path: Path) -> bytes | None:
    """FOLDER_RECORD's bytes; None when there is none; OutputError when something else has its name."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):  # a FIFO would block the read, a link is not fervideo's
            raise _not_a_record(path)
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"{path}: cannot read fervideo's record of the folder: {exc.strerror or exc}") from exc


def _not_a_record(path: Path) -> OutputError:
    """The one line for a file at FOLDER_RECORD's name that fervideo did not write."""
    return OutputError(
        f"{path} is in the way: not fervideo's record of the folder; move it away or choose another -o folder"
    )


def _identity(path: Path) -> tuple[int, int] | None:
    """A file's (size, modification time), the link's own for a link; None when there is nothing."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def listed_in_folder(path: Path) -> bool:
    """Whether report or export recorded path as theirs in its folder's FOLDER_RECORD (for a refusal's wording)."""
    record = path.parent / FOLDER_RECORD
    try:
        return path.name in _record_files(_read_record(record), record)
    except OutputError:
        return False
