"""BORIS's files: a project (CLIP.boris) and a time series per face (CLIP.face<ID>.tsv) that it plots beside the video.

The project follows what BORIS reads (boris/project_functions.py, open_project_json, project format 7.0, and
boris/import_observations.py, load_observations_from_boris_project): an ethogram of the seven emotions as state
events, a subject per face, and one media observation linked to the video, its episodes as paired start and stop
events, and up to two faces' valence series in its "Data files".
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import subprocess
from pathlib import Path

import numpy as np

from fervideo.core.detections import FACE_FEATURES
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import face_series_name
from fervideo.outputs.episodes import Episode, valence
from fervideo.outputs.sinks import DEGREES

PROJECT_FORMAT = "7.0"  # BORIS 7.x to 9.x open it; a newer number makes older BORIS refuse the file
# the face mesh's columns after the frame, so that the columns before them stay where they were
SERIES_HEADER = ["time_s", *EMOTIONS, "valence", "frame", *FACE_FEATURES]
VALENCE_COLUMN = SERIES_HEADER.index("valence") + 1  # BORIS numbers columns from 1
MAX_PLOTS = 2  # BORIS plots at most two data files per observation (observation_operations.py)
KEYS = {"angry": "a", "disgust": "d", "fear": "f", "happy": "h", "sad": "s", "surprise": "u", "neutral": "n"}
PLOT_STYLES = ("b-", "r-")


def subject_name(face_id: int) -> str:
    """The BORIS subject (and ELAN tier) of one face."""
    return f"face {face_id}"


def write_face_series(
    path: Path, frames: np.ndarray, times: np.ndarray, probs: np.ndarray, features: np.ndarray | None = None
) -> None:
    """One face's time series: time first, the seven probabilities and valence, the frame, then the face mesh's
    FACE_FEATURES (T, 9) as the CSV rounds them, nan where unknown (None: not computed); times unique."""
    times, probs = np.asarray(times, np.float64), np.asarray(probs, np.float64)
    features = np.full((len(times), len(FACE_FEATURES)), np.nan) if features is None else np.asarray(features)
    keep = np.r_[True, np.diff(times) > 0]  # BORIS refuses a repeated time
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(SERIES_HEADER)
        # the whole-number frame matters: BORIS's loader (utilities.txt2np_array) takes every row without an
        # integer field for a header row and skips that many rows, which with decimals only is all of them
        frames, features = np.asarray(frames)[keep], features[keep]
        rows = zip(frames, times[keep], probs[keep], valence(probs[keep]), features, strict=True)
        for frame, t, p, v, f in rows:
            writer.writerow([f"{t:.4f}", *(f"{x:.6f}" for x in p), f"{v:.6f}", int(frame), *_feature_cells(f)])


def _feature_cells(values: np.ndarray) -> list[str]:
    """One frame's FACE_FEATURES as the CSV writes them; nan (which numpy and BORIS read) where unknown."""
    if np.isnan(values).any():
        return ["nan"] * len(FACE_FEATURES)
    cells = [f"{v:.1f}" if name in DEGREES else f"{v:.3f}" for name, v in zip(FACE_FEATURES, values, strict=True)]
    return [*cells[:-1], str(int(values[-1]))]


def write_boris_project(
    path: Path,
    episodes: list[Episode],
    series: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
    media: Path,
    timing: tuple[float, float],
    stem: str,
) -> None:
    """CLIP.boris: a BORIS project with one observation of media, the episodes as state events of each face.

    path may be a temporary name; stem names the files beside it (CLIP.face<ID>.tsv)."""
    fps, duration = timing
    video = _relative(media, path.parent)
    events = []
    for episode in episodes:
        start, end = round(episode.start_s, 3), round(episode.end_s, 3)
        if end > start:  # BORIS keeps times in milliseconds; an empty stretch would pair with nothing
            events += [[t, subject_name(episode.face_id), episode.emotion, "", ""] for t in (start, end)]
    events.sort(key=lambda event: event[:3])  # BORIS's own order (open_project_json)
    observation = {
        "file": {"1": [video], "2": []},
        "type": "MEDIA",
        "date": _date(media),
        "description": f"fervideo's analysis of {media.name}: one state event per episode of each face",
        "time offset": 0.0,
        "events": events,
        "independent_variables": {},
        "visualize_spectrogram": False,
        "visualize_waveform": False,
        "media_creation_date_as_offset": False,
        "media_scan_sampling_duration": 0,
        "image_display_duration": 1,
        "close_behaviors_between_videos": False,
        "observation time interval": [0, 0],
        "media_info": {
            "length": {video: round(duration, 3)},
            "fps": {video: round(fps, 3)},
            "hasVideo": {video: True},
            "hasAudio": {video: _has_audio(media)},
            "offset": {"1": 0.0, "2": 0.0},
            "display": {video: "Nothing"},  # else BORIS adds it and asks to save the project on closing
        },
        "plot_data": _plot_data(stem, series),
    }
    project = {
        "time_format": "s",
        "project_date": observation["date"],
        "project_name": f"fervideo {media.stem}",
        "project_description": "Emotions per face, written by fervideo (fervideo analyze --export boris)",
        "project_format_version": PROJECT_FORMAT,
        "subjects_conf": {
            str(i): {"key": str(face_id) if face_id < 10 else "", "name": subject_name(face_id), "description": ""}
            for i, face_id in enumerate(sorted(series))
        },
        "behaviors_conf": {
            str(i): {
                "type": "State event",
                "key": KEYS[emotion],
                "code": emotion,
                "description": f"{emotion} is the face's most probable emotion",
                "color": "",
                "category": "",
                "modifiers": {},
                "excluded": "",
                "coding map": "",
            }
            for i, emotion in enumerate(EMOTIONS)
        },
        "observations": {media.stem: observation},
        "behavioral_categories": [],
        "behavioral_categories_config": {},
        "independent_variables": {},
        "coding_map": {},
        "behaviors_coding_map": [],
        "converters": {},
    }
    path.write_text(json.dumps(project, indent=1) + "\n")


def _plot_data(stem: str, series: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict:
    """The observation's data files: the valence of the faces seen longest (BORIS plots two at most)."""
    longest = sorted(
        (face_id for face_id in series if len(np.unique(series[face_id][1])) > 1),
        key=lambda face_id: (-len(series[face_id][1]), face_id),
    )[:MAX_PLOTS]
    return {
        str(i): {
            "file_path": face_series_name(stem, face_id),  # beside the project: BORIS looks there (full_path)
            "columns": f"1,{VALENCE_COLUMN}",
            "title": f"{subject_name(face_id)}: valence",
            "variable_name": "valence",
            "converters": {},
            "time_interval": "60",
            "time_offset": "0",
            "substract_first_value": "False",  # the times are the video's already
            "color": PLOT_STYLES[i],
        }
        for i, face_id in enumerate(sorted(longest))
    }


def _relative(target: Path, folder: Path) -> str:
    """target's path from folder (BORIS resolves it against the project's folder), else the absolute path."""
    try:
        return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(target.resolve())


def _date(media: Path) -> str:
    """The observation's date, as BORIS writes it: the video's modification time, so an export repeats."""
    try:
        moment = datetime.datetime.fromtimestamp(media.stat().st_mtime) if _is_file(media) else None
    except OSError:  # the video moved since the analysis
        moment = None
    return (moment or datetime.datetime.now()).strftime("%Y-%m-%dT%H:%M:%S")


def _has_audio(media: Path) -> bool:
    """Whether the video has sound (BORIS offers its waveform and spectrogram only then)."""
    from fervideo.core.media import FfmpegUnavailable, probe

    if not _is_file(media):  # ffmpeg would wait on a FIFO for a writer that never comes: as if the video were gone
        return False
    try:
        return probe(media).audio_codec is not None
    except (FfmpegUnavailable, OSError, ValueError, subprocess.SubprocessError):
        return False


def _is_file(media: Path) -> bool:
    """Whether media is a regular file (through links): no FIFO, device or folder, nothing missing."""
    try:
        return media.is_file()
    except (OSError, ValueError):  # a name the system refuses (too long, a NUL): no file
        return False
