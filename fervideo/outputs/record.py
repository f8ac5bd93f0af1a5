"""The JSON's record of a result's files, kept by the commands that add files to a result afterwards.

`fervideo report` and `fervideo export` write beside a CSV that analyze wrote; they add what they write to the
`files` (and `outputs`) of the JSON there, rewritten in the same group commit, so that a later run into the folder
knows those files as a fervideo run's own and replaces them (fervideo/run/owned.py) instead of stopping at them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fervideo.core.atomic import AtomicOutput
from fervideo.core.errors import OutputError


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
