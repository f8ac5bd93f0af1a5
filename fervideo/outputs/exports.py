"""Episodes and time series in the formats of researchers' annotation tools: ELAN (.eaf) and BORIS (.tsv).

ELAN: one tier per face holding its episodes, the seven emotions as a controlled vocabulary, the video linked
by a relative path. BORIS: the aggregated-events table of its export (one STATE event per episode) and, per face,
a time series (time, then the seven probabilities and valence) that BORIS plots beside the video.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fervideo.core.atomic import AtomicOutput
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.episodes import EPISODE_HEADER, Episode, track_episodes, valence

FORMATS = ("eaf", "boris")
VOCABULARY = "fervideo-emotions"
# the columns of BORIS's aggregated-events export; those we have no value for stay empty
BORIS_HEADER = [
    "Observation id",
    "Observation date",
    "Description",
    "Observation type",
    "Source",
    "Time offset (s)",
    "Media duration (s)",
    "FPS",
    "Subject",
    "Behavior",
    "Behavioral category",
    "Behavior type",
    "Start (s)",
    "Stop (s)",
    "Duration (s)",
    "Media file name",
    "Image index start",
    "Image index stop",
    "Image file path start",
    "Image file path stop",
    "Comment start",
    "Comment stop",
]


def tier_name(face_id: int) -> str:
    """The ELAN tier of one face."""
    return f"face {face_id}"


def write_episodes(path: Path, episodes: list[Episode]) -> None:
    """CLIP.episodes.csv: one row per episode."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, EPISODE_HEADER)
        writer.writeheader()
        writer.writerows(episode.row() for episode in episodes)


def write_eaf(path: Path, episodes: list[Episode], media: Path, face_ids: list[int]) -> None:
    """An ELAN document linked to media (by its path relative to path's folder): a tier per face, its episodes."""
    from pympi.Elan import Eaf, to_eaf

    eaf = Eaf(author="fervideo")
    eaf.remove_tier("default")
    relative = Path(_relative(media, path.parent))
    eaf.add_linked_file(media.resolve().as_uri(), relpath=relative.as_posix(), mimetype=_mimetype(media))
    eaf.add_controlled_vocabulary(VOCABULARY)
    eaf.add_language("und")
    for emotion in EMOTIONS:
        eaf.add_cv_entry(VOCABULARY, emotion, [(emotion, "und", None)])
    eaf.add_linguistic_type("emotion", constraints=None, timealignable=True, param_dict=None)
    eaf.linguistic_types["emotion"]["CONTROLLED_VOCABULARY_REF"] = VOCABULARY
    for face_id in face_ids:
        eaf.add_tier(tier_name(face_id), ling="emotion")
    for episode in episodes:
        start, end = round(episode.start_s * 1000), round(episode.end_s * 1000)
        if end > start:
            eaf.add_annotation(tier_name(episode.face_id), start, end, episode.emotion)
    to_eaf(str(path), eaf, pretty=True)


def write_boris_events(path: Path, episodes: list[Episode], media: Path, fps: float, duration: float) -> None:
    """BORIS's aggregated events: Subject the face, Behavior the emotion, a STATE event per episode."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, BORIS_HEADER, delimiter="\t")
        writer.writeheader()
        for episode in episodes:
            writer.writerow(
                dict.fromkeys(BORIS_HEADER, "")
                | {
                    "Observation id": media.stem,
                    "Observation type": "Media file",
                    "Source": media.name,
                    "Time offset (s)": 0,
                    "Media duration (s)": round(duration, 3),
                    "FPS": round(fps, 3),
                    "Subject": tier_name(episode.face_id),
                    "Behavior": episode.emotion,
                    "Behavior type": "STATE",
                    "Start (s)": round(episode.start_s, 3),
                    "Stop (s)": round(episode.end_s, 3),
                    "Duration (s)": round(episode.duration_s, 3),
                    "Media file name": media.name,
                }
            )


def write_face_series(path: Path, times: np.ndarray, probs: np.ndarray) -> None:
    """One face's time series for BORIS: time first, then the seven probabilities and valence; times unique."""
    times, probs = np.asarray(times, np.float64), np.asarray(probs, np.float64)
    keep = np.r_[True, np.diff(times) > 0]  # BORIS refuses a repeated time
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["time_s", *EMOTIONS, "valence"])
        for t, p, v in zip(times[keep], probs[keep], valence(probs[keep]), strict=True):
            writer.writerow([f"{t:.4f}", *(f"{x:.6f}" for x in p), f"{v:.6f}"])


def face_series_path(boris: Path, face_id: int) -> Path:
    """CLIP.face<ID>.tsv beside CLIP.boris.tsv."""
    return boris.with_name(boris.name.removesuffix(".boris.tsv") + f".face{face_id}.tsv")


def _relative(target: Path, folder: Path) -> str:
    import os

    try:
        return os.path.relpath(target.resolve(), folder.resolve())
    except ValueError:  # another drive (Windows): the absolute path
        return str(target.resolve())


def _mimetype(media: Path) -> str:
    suffix = media.suffix.lower()
    return {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}.get(suffix, "video/*")


def write_exports(
    formats: tuple[str, ...],
    paths: dict[str, Path],
    episodes: list[Episode],
    series: dict[int, tuple[np.ndarray, np.ndarray]],
    media: Path,
    timing: tuple[float, float],
    stage: Callable[[Path], AtomicOutput],
) -> None:
    """Write the formats asked for from the episodes and each face's (times, probs); stage(final) names the
    temporary file of each, for the caller to commit with the rest. timing: the media's (fps, duration)."""
    if "eaf" in formats:
        write_eaf(stage(paths["eaf"]).tmp, episodes, media, sorted(series))
    if "boris" in formats:
        write_boris_events(stage(paths["boris"]).tmp, episodes, media, *timing)
        for face_id, (times, probs) in sorted(series.items()):
            write_face_series(stage(face_series_path(paths["boris"], face_id)).tmp, times, probs)


def export_result(csv_path: str | Path, formats: tuple[str, ...], out_dir: str | Path | None = None) -> list[Path]:
    """`fervideo export`: the formats for an earlier result, from its CSV and the JSON beside it; the files written."""
    import json

    from fervideo.core.atomic import commit_group, prepare_out_dir
    from fervideo.core.errors import InputError
    from fervideo.core.layout import output_paths
    from fervideo.outputs.results import read_table

    csv_path = Path(csv_path)
    table = read_table(csv_path)
    json_path = csv_path.with_suffix(".json")
    try:
        summary = json.loads(json_path.read_text())
        media, info = Path(summary["input"]["absolute_path"]), summary["input"]
        min_episode = float(summary.get("episodes", {}).get("min_seconds", 0.5))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{json_path}: the JSON summary beside the CSV is missing or unreadable ({exc})") from exc
    out_dir = prepare_out_dir(out_dir if out_dir is not None else csv_path.parent)
    paths = output_paths(csv_path.with_suffix(".mp4"), out_dir, csv_path.stem)
    episodes, series = [], {}
    for face_id in table.track_ids():
        rows = np.flatnonzero(table.face_id == face_id)
        series[face_id] = (table.time_s[rows], table.probs[rows])
        episodes += track_episodes(face_id, table.frame[rows], table.time_s[rows], table.probs[rows], min_episode)
    staged: list[AtomicOutput] = []

    def stage(final: Path) -> AtomicOutput:
        staged.append(AtomicOutput(final))
        return staged[-1]

    try:
        write_exports(formats, paths, episodes, series, media, (info["fps"], info["duration"]), stage)
        commit_group(staged)
    except BaseException:
        for output in staged:
            output.discard()
        raise
    return [output.final for output in staged]
