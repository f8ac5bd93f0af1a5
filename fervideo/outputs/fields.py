"""Reading the fields of a JSON summary that may have been edited by hand: any value can be anything there.

The pages built from a summary (the report, its viewer, the batch overview) take its parts through these, so a
string where a number was, NaN, or markup neither crashes them nor ends up in a page as anything but text.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from fervideo.core.errors import InputError
from fervideo.outputs.summary import MIN_EPISODE


def section(summary: object, key: str) -> dict:
    """summary[key] where both are dicts, else an empty dict."""
    value = summary.get(key) if isinstance(summary, dict) else None
    return value if isinstance(value, dict) else {}


def number(value: object, default: float | None = None, least: float = -math.inf) -> float | None:
    """value as a float where it is a finite number of at least least (True is no number), else default."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= least
    return float(value) if ok else default


def shown(value: object) -> str:
    """A field as a page shows it, before escaping: numbers short (6 significant digits), anything else as text."""
    return f"{value:g}" if number(value) is not None else ("" if value is None else str(value))


def percent(share: float) -> str:
    """A share of 0 to 1 as a whole percentage that never reads as none or all when it is neither: "<1%", ">99%"."""
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{100 * share:.0f}%"


def export_fields(json_path: Path) -> tuple[Path, tuple[float, float], float]:
    """What `export` needs of the JSON beside a CSV: the source video, its (fps, duration), the episodes' minimum.

    Each is checked here, where it enters, so that a hand-edited field is named in one line rather than failing
    later inside the ELAN or BORIS writer.
    """
    try:
        summary = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise InputError(
            f"{json_path}: no such file; export needs the JSON that analyze writes beside the CSV"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: a JSON nested too deep
        raise InputError(f"{json_path}: the JSON summary beside the CSV is unreadable ({exc})") from exc
    if not isinstance(summary, dict) or not isinstance(summary.get("input"), dict):
        raise InputError(f'{json_path}: not a fervideo JSON summary (no "input" object)')
    info = summary["input"]
    path = info.get("absolute_path")
    if not isinstance(path, str) or not path or "\0" in path:
        raise _wrong(json_path, "input.absolute_path", path, "a path")
    fps, duration = number(info.get("fps")), number(info.get("duration"), least=0.0)
    if fps is None or fps <= 0:
        raise _wrong(json_path, "input.fps", info.get("fps"), "a frame rate above 0")
    if duration is None:
        raise _wrong(json_path, "input.duration", info.get("duration"), "a number of seconds, 0 or more")
    episodes = summary.get("episodes", {})
    if not isinstance(episodes, dict):
        raise _wrong(json_path, "episodes", episodes, "an object")
    min_episode = number(episodes.get("min_seconds", MIN_EPISODE), least=0.0)
    if min_episode is None:
        raise _wrong(json_path, "episodes.min_seconds", episodes["min_seconds"], "a number of seconds, 0 or more")
    return _media(summary, json_path, Path(path)), (fps, duration), min_episode


def _media(summary: dict, json_path: Path, source: Path) -> Path:
    """What the tools are to open: the source, or for a camera or stream (no file) the recording live made of it,
    which starts at the CSV's time 0."""
    recording = found_beside(section(summary, "outputs").get("recording"), json_path.parent)
    return recording if summary["input"].get("camera") is True and recording is not None else source


def found_beside(name: object, folder: Path) -> Path | None:
    """An output the JSON names, where it is now: in folder first (the result may have moved since, and the JSON's
    paths are relative to where the command ran), else as written; None when neither is a file."""
    if not isinstance(name, str) or not name or "\0" in name:
        return None
    return next((path for path in (folder / Path(name).name, Path(name)) if path.is_file()), None)


def _wrong(json_path: Path, name: str, value: object, want: str) -> InputError:
    """The one line that names a JSON field whose value fervideo never writes."""
    return InputError(
        f"{json_path}: {name} is {'missing' if value is None else json.dumps(value)[:60]}, not {want}; "
        "fix it or analyze the video again"
    )
