"""The JSON that `live --csv` writes beside its CSV: analyze's summary shape, so that `report` and `export` take a
live CSV as they take analyze's, and a later run in that folder knows the files as a fervideo run's own."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import cv2

from fervideo import __version__
from fervideo.core.atomic import AtomicOutput, special_kind
from fervideo.core.errors import OutputError
from fervideo.core.frames import FrameResult
from fervideo.core.layout import face_series_files, output_paths
from fervideo.core.paths import local
from fervideo.engine.pipeline import Analyzer
from fervideo.outputs.sinks import BASE_HEADER
from fervideo.outputs.summary import Summary
from fervideo.run.owned import earlier_result, identity, input_stat, owned_names, replaceable

METHOD = "exponential moving average per track"


def summary_path(csv: Path) -> Path:
    """The JSON beside live's CSV, where report and export look for it: live.csv -> live.json."""
    return Path(csv).with_suffix(".json")


def replaced_outputs(csv: Path | None, record: Path | None) -> list[Path]:
    """Raise OutputError where live would replace a file that is not an earlier live run's (a user's own, a part of
    an analyze result); else that earlier live result's recorded files this run does not write, to remove."""
    json_path = summary_path(csv) if csv is not None else None
    if record is not None:  # the CSV's JSON records a recording beside it under any name
        _check_file(record, "--record", _is_recording, [json_path] if json_path is not None else [])
    if csv is None:
        return []
    _check_file(csv, "--csv", _is_result_csv, [])
    earlier = earlier_result(json_path)
    if earlier is not None and not is_live(earlier):  # its CSV is gone: the JSON still holds analyze's result
        raise OutputError(_analyzed(json_path, earlier, "--csv"))
    return _stale_outputs(csv, [record] if record is not None else [])


def is_live(summary: dict) -> bool:
    """Whether summary is a live run's: only then is it live's to replace (analyze's result keeps its files)."""
    recorded = summary.get("input")
    return isinstance(recorded, dict) and recorded.get("live") is True


def _stale_outputs(csv: Path, also: list[Path]) -> list[Path]:
    """The earlier live result's recorded files at the CSV's stem that this run does not write, to remove with its
    commit; raises OutputError where a file at the JSON's name is not a fervideo run's (a user's own is kept)."""
    json_path = summary_path(csv)
    candidates = [*output_paths(csv, csv.parent, csv.stem).values(), *face_series_files(csv.parent, csv, csv.stem)]
    try:
        return replaceable([json_path], json_path, [path for path in candidates if path not in (csv, *also)])
    except OutputError:  # live has no -o: the advice is its own
        raise OutputError(
            f"{json_path} is in the way: no fervideo run wrote it; move it away or give --csv another name"
        ) from None


def _check_file(path: Path, flag: str, live_wrote: Callable[[Path], bool], jsons: list[Path]) -> None:
    """Raise OutputError where path holds a file live must not replace: a part of an analyze result, or a file that
    no fervideo result records and that is not what live writes."""
    if not os.path.lexists(path) or special_kind(path) is not None:  # a FIFO or a folder: the commit refuses it
        return
    owners = _owners(path, jsons)
    analyzed = next((summary for summary in owners if not is_live(summary)), None)
    if analyzed is not None:
        raise OutputError(_analyzed(path, analyzed, flag))
    if not owners and not live_wrote(path):
        raise OutputError(f"{path} is in the way: no fervideo run wrote it; move it away or choose another {flag} name")


def _owners(path: Path, jsons: list[Path]) -> list[dict]:
    """The fervideo results that record path as their own. A result's files share its JSON's stem, so only the JSONs
    named by a dotted prefix of path's name can (a.b.annotated.mp4: a.json, a.b.json, a.b.annotated.json)."""
    parts = path.name.split(".")
    stems = [".".join(parts[:end]) for end in range(1, len(parts))]
    folder, found = path.parent.resolve(), []
    for json_path in dict.fromkeys([*jsons, *(path.with_name(f"{stem}.json") for stem in stems if stem)]):
        summary = earlier_result(json_path)
        if summary is not None and json_path.parent.resolve() == folder and path.name in owned_names(json_path):
            found.append(summary)
    return found


def _analyzed(path: Path, summary: dict, flag: str) -> str:
    """The one line for a file that belongs to an analyze result: live must not take it over or break it up."""
    recorded = summary.get("input")
    source = (recorded.get("absolute_path") or recorded.get("path")) if isinstance(recorded, dict) else None
    return f"{path} is part of an earlier analyze result of {source or 'another input'}; choose another {flag} name"


def _is_result_csv(path: Path) -> bool:
    """Whether path starts with fervideo's CSV header: a live run from before live wrote its JSON left only that."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            first = f.readline(4096).rstrip("\r\n")
    except OSError:
        return False
    return first.split(",")[: len(BASE_HEADER)] == BASE_HEADER


def _is_recording(path: Path) -> bool:
    """Whether path is an MPEG-4 video as OpenCV writes live's recordings: a run with --record alone, or from before
    live wrote its JSON, recorded its files nowhere."""
    if not path.is_file():
        return False
    capture = cv2.VideoCapture(local(path))
    try:
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)) if capture.isOpened() else 0
    finally:
        capture.release()
    return (fourcc & 0xFFFFFFFF).to_bytes(4, "little").upper() in (b"FMP4", b"MP4V")


class LiveSummary:
    """Counts each shown frame as analyze's summary does, and writes the JSON (held for live's group commit)."""

    def __init__(self, csv: Path, camera: str, capture: cv2.VideoCapture, analyzer: Analyzer, smooth: float) -> None:
        self.csv, self.camera, self.analyzer, self.smooth = Path(csv), camera, analyzer, smooth
        self.stats = Summary()
        self.output = AtomicOutput(summary_path(self.csv)).hold()
        self.file = None if camera.isdigit() or not Path(camera).is_file() else Path(camera)
        self.started = input_stat(self.file) if self.file is not None else None
        self.header_frames = int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0)) if self.file is not None else 0
        self.tic = time.perf_counter()
        self.last_frame = -1

    def update(self, result: FrameResult) -> None:
        """Count one shown frame (its index the source's own frame number)."""
        self.stats.update(result)
        self.last_frame = result.index

    def finish(self, fps: float, size: tuple[int, int], shown: int, dropped: int, record: Path | None) -> None:
        """Write the summary to the held temporary file; the CSV and the recording are committed with it."""
        import json

        elapsed = time.perf_counter() - self.tic
        tracks = self.stats.track_list()
        written = [self.csv, self.output.final] + ([record] if record is not None else [])
        same_folder = [path for path in written if path.parent.resolve() == self.csv.parent.resolve()]
        data = {
            "fervideo_version": __version__,
            "input": self._input(fps, size, elapsed),
            "model": {**{k: v for k, v in self.analyzer.classifier.info.items() if k != "metrics"}, "tta": False},
            "detector": asdict(self.analyzer.options.detector),
            "tracker": asdict(self.analyzer.options.tracker),
            # live analyses the newest frame: frames that arrive while the model works are dropped, not queued
            "sampling": {"every": 1, "fps": None, "start": 0.0, "end": None, "live": "newest frame"},
            "smoothing": {"seconds": self.smooth, "method": METHOD, "clock": "wall"},
            "options": self.analyzer.options.to_dict(),
            "counts": {**self.stats.counts(), "frames_dropped": dropped},
            "tracks": tracks,
            "episodes": {"min_seconds": self.stats.min_episode, "count": sum(t["episodes"] for t in tracks)},
            "processing": {
                "seconds": round(elapsed, 3),
                "frames_per_second": round(shown / max(elapsed, 1e-9), 2),
                **self.analyzer.work(),  # the mode that ran and what it skipped, as analyze's JSON has them
            },
            "outputs": {"csv": str(self.csv), "json": str(self.output.final)}
            | ({"recording": str(record)} if record is not None else {}),
            "warnings": [],
            "output_options": {"video": False, "codec": None, "report": False, "export": []},
            # this run's files beside the JSON: a later run there replaces them, never a user's own
            "files": sorted(path.name for path in same_folder),
        }
        self.output.tmp.write_text(json.dumps(data, indent=2) + "\n")

    def _input(self, fps: float, size: tuple[int, int], elapsed: float) -> dict:
        """The source: a file by its path (frames in the CSV are its own frame numbers), else the camera or URL."""
        frames = self.last_frame + 1
        info = {
            "path": self.camera if self.file is not None else self._name(),
            "frames": self.header_frames or frames,
            "fps": round(fps, 6),
            "duration": round(self.header_frames / fps if self.header_frames else elapsed, 3),
            "width": size[0],
            "height": size[1],
            "is_image": False,
            "frames_read": frames,
            "live": True,
        }
        if self.file is None:  # nothing to cut faces from later: report says so
            return info | {"absolute_path": self._name(), "camera": True}
        return info | {"absolute_path": str(self.file.resolve())} | identity(self.started)

    def _name(self) -> str:
        return source_name(self.camera)


def source_name(camera: str) -> str:
    """The camera, file or stream as the JSON and messages name it: "camera 0" for an index."""
    return f"camera {camera}" if camera.isdigit() else camera
