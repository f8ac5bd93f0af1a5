"""Whose files are in an output folder: a run replaces or removes only what an earlier fervideo run recorded as its
own (the JSON's `files`), and a result counts for an input only while that input is the same file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fervideo.core.errors import InputError, OutputError
from fervideo.outputs.record import listed_in_folder


def input_stat(path: str | Path) -> os.stat_result | None:
    """The input as the run starts on it; None when it cannot be read (the source then says why)."""
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def identity(st: os.stat_result | None) -> dict:
    """The JSON's record of which file the input was: its size and modification time at the start."""
    return {} if st is None else {"size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def check_unchanged(path: str | Path, before: os.stat_result | None) -> None:
    """Raise InputError when path is no longer the file the run started on (replaced, rewritten, still growing)."""

    def key(st: os.stat_result | None) -> tuple | None:
        return None if st is None else (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    if key(input_stat(path)) != key(before):
        raise InputError(f"{path} changed while it was analysed; nothing was written: run again to analyse it as it is")


def earlier_result(json_path: str | Path) -> dict | None:
    """The summary in json_path when a fervideo run wrote it; None when there is none or it is someone else's."""
    try:
        data = json.loads(Path(json_path).read_text())
    except (OSError, ValueError, RecursionError):  # RecursionError: a JSON nested too deep
        return None
    return data if isinstance(data, dict) and "fervideo_version" in data else None


def owned_names(json_path: Path) -> set[str]:
    """The names of the files, beside json_path, that the fervideo run which wrote it recorded as its own."""
    summary = earlier_result(json_path)
    if summary is None:
        return set()
    files = summary.get("files")
    if not isinstance(files, list):  # a run before `files` recorded its outputs by kind only
        outputs = summary.get("outputs")
        files = [Path(str(path)).name for path in outputs.values()] if isinstance(outputs, dict) else []
    # names only: a hand-edited JSON must not reach outside its folder
    return {name for name in files if isinstance(name, str) and name not in ("", ".", "..") and "/" not in name} | {
        json_path.name
    }


def replaceable(finals: list[Path], json_path: Path, candidates: list[Path]) -> list[Path]:
    """Raise OutputError when a file at one of finals is not an earlier run's; else the candidates (an earlier run's
    possible outputs) that the earlier run recorded and finals do not replace: the stale files to remove."""
    owned = owned_names(json_path)
    for final in finals:
        if os.path.lexists(final) and final.name not in owned:
            listed = listed_in_folder(final)
            who = "report or export wrote it from a result elsewhere" if listed else "no fervideo run wrote it"
            raise OutputError(f"{final} is in the way: {who}; move it away or choose another -o folder")
    names = {final.name for final in finals}
    return [path for path in candidates if path.name in owned and path.name not in names and os.path.lexists(path)]


def unchanged(summary: dict, path: Path) -> bool:
    """Whether the input at path has the size and modification time the summary recorded (the size alone for a run
    that recorded no time)."""
    recorded, st = summary["input"], os.stat(path)
    return recorded["size_bytes"] == st.st_size and recorded.get("mtime_ns", st.st_mtime_ns) == st.st_mtime_ns


def of_input(summary: dict, path: Path) -> bool:
    """Whether summary is a result of the input at path: the same path, or the same recording moved elsewhere."""
    recorded = summary.get("input")
    if not isinstance(recorded, dict) or recorded.get("absolute_path") in (None, str(Path(path).resolve())):
        return True
    st = input_stat(path)
    return st is not None and "mtime_ns" in recorded and unchanged(summary, path)


def another_input(json_path: Path, path: Path) -> str | None:
    """Why path's run must not write here: json_path holds the result of another input (same name); else None."""
    earlier = earlier_result(json_path)
    if earlier is None or of_input(earlier, path):
        return None
    other = earlier["input"].get("absolute_path")
    return f"{json_path} is the result of another input, {other}; choose another -o folder, or move that result away"
