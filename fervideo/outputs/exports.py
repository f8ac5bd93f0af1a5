"""Episodes and time series in the formats of researchers' annotation tools: ELAN (.eaf) and BORIS (.boris).

ELAN: one tier per face holding its episodes, the seven emotions as a controlled vocabulary, the video linked
by a relative path; with the face mesh, two more per face: its blinks and its stretches of looking at the camera.
BORIS (fervideo/outputs/boris.py): a project with one observation of the video, a state event per episode, and per
face a time series (time, the seven probabilities, valence, frame, the face mesh's numbers) that BORIS plots.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from fervideo.core.atomic import AtomicOutput
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import face_series_name
from fervideo.outputs.boris import subject_name, write_boris_project, write_face_series
from fervideo.outputs.episodes import EPISODE_HEADER, SEGMENT_GAP, Episode, track_episodes
from fervideo.outputs.face_features import face_events
from fervideo.outputs.fields import export_fields
from fervideo.outputs.record import Owners

FORMATS = ("eaf", "boris")
VOCABULARY = "fervideo-emotions"


def tier_name(face_id: int) -> str:
    """The ELAN tier of one face: the face's name in BORIS too."""
    return subject_name(face_id)


def write_episodes(path: Path, episodes: list[Episode]) -> None:
    """CLIP.episodes.csv: one row per episode."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, EPISODE_HEADER)
        writer.writeheader()
        writer.writerows(episode.row() for episode in episodes)


def event_tier(face_id: int, event: str) -> str:
    """The ELAN tier of one face's blinks ("blink") or looking at the camera ("looking at camera")."""
    return f"{tier_name(face_id)} {'blinks' if event == 'blink' else event}"


def write_eaf(
    path: Path,
    episodes: list[Episode],
    media: Path,
    face_ids: list[int],
    events: dict[int, dict[str, list[tuple[float, float]]]] | None = None,
) -> None:
    """An ELAN document linked to media (by its path relative to path's folder): a tier per face, its episodes;
    events: per face its blinks and looking at the camera as (start, end) seconds, a tier each."""
    from pympi.Elan import Eaf, to_eaf

    eaf = Eaf(author="fervideo")
    eaf.remove_tier("default")
    eaf.add_linked_file(_elan_url(media), relpath=_relative(media, path.parent), mimetype=_mimetype(media))
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
    if events:
        eaf.add_linguistic_type("event", constraints=None, timealignable=True, param_dict=None)
    for face_id, kinds in sorted((events or {}).items()):
        for event, spans in kinds.items():
            eaf.add_tier(event_tier(face_id, event), ling="event")
            for start, end in ((round(a * 1000), round(b * 1000)) for a, b in spans):
                if end > start:  # ELAN refuses an empty annotation
                    eaf.add_annotation(event_tier(face_id, event), start, end, event)
    to_eaf(str(path), eaf, pretty=True)


def _elan_url(media: Path) -> str:
    """MEDIA_URL as ELAN writes and reads it: "file:///" and the path as it stands, since ELAN removes the scheme
    but decodes no %XX (FileUtility.urlToAbsPath): a percent-encoded name is a file it cannot find."""
    path = media.resolve().as_posix()
    return f"file:{path}" if path.startswith("//") else f"file:///{path.lstrip('/')}"  # //server/share: file://


def _relative(target: Path, folder: Path) -> str:
    """RELATIVE_MEDIA_URL: ELAN resolves it against the document's folder only when it starts with "./" or "../"
    (FileUtility.getAbsolutePath); a bare name would be looked for in ELAN's working folder."""
    try:
        relative = Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows): the absolute path
        return _elan_url(target)
    return relative if relative.startswith("../") else f"./{relative}"


def tool_span(start: float, end: float, timing: tuple[float, float]) -> tuple[float, float]:
    """(start, end) seconds as ELAN and BORIS get them: a stretch of one analysed frame (a photo, a face seen
    once) lasts one frame of the media, since both tools drop or cannot show an empty one; none passes the media's
    end (sparse sampling lets the last analysed frame last a step beyond it), and one that starts after it (a
    hand-edited CSV) becomes empty, which the writers leave out. A duration of 0 is unknown: no limit."""
    end = end if end > start else start + 1 / timing[0]
    return start, _within(end, timing)


def tool_episodes(episodes: list[Episode], timing: tuple[float, float]) -> list[Episode]:
    """The episodes with their times as tool_span gives them; the CSV's episodes are left as they are."""
    return [replace(e, start_s=a, end_s=b) for e in episodes for a, b in [tool_span(e.start_s, e.end_s, timing)]]


def _mimetype(media: Path) -> str:
    suffix = media.suffix.lower()
    return {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}.get(suffix, "video/*")


def write_exports(
    formats: tuple[str, ...],
    paths: dict[str, Path],
    episodes: list[Episode],
    series: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
    media: Path,
    timing: tuple[float, float],
    stage: Callable[[Path], AtomicOutput],
    features: dict[int, np.ndarray] | None = None,
) -> None:
    """Write the formats asked for from the episodes and each face's (frames, times, probs); stage(final) names
    the temporary file of each, for the caller to commit with the rest. timing: the media's (fps, duration);
    features: each face's FACE_FEATURES (T, 9), row for row with its series (none: without the face mesh)."""
    features = {f: v for f, v in (features or {}).items() if f in series and not np.isnan(v).all()}
    episodes = tool_episodes(episodes, timing)
    if "eaf" in formats:
        events = {f: _clipped(face_events(series[f][1], v, SEGMENT_GAP), timing) for f, v in features.items()}
        write_eaf(stage(paths["eaf"]).tmp, episodes, media, sorted(series), events)
    if "boris" in formats:
        project, stem = paths["boris"], paths["boris"].name.removesuffix(".boris")
        write_boris_project(stage(project).tmp, episodes, series, media, timing, stem)
        for face_id, (frames, times, probs) in sorted(series.items()):
            tmp = stage(project.with_name(face_series_name(stem, face_id))).tmp
            write_face_series(tmp, frames, times, probs, features.get(face_id))


def _clipped(kinds: dict[str, list[tuple[float, float]]], timing: tuple[float, float]) -> dict:
    """One face's blink and looking spans, none past the media's end (an empty one stays empty: no blink)."""
    return {kind: [(a, _within(b, timing)) for a, b in spans] for kind, spans in kinds.items()}


def _within(end: float, timing: tuple[float, float]) -> float:
    """end, or the media's duration where it passes it; a duration of 0 is unknown: no limit."""
    return min(end, timing[1]) if timing[1] > 0 else end


def export_result(csv_path: str | Path, formats: tuple[str, ...], out_dir: str | Path | None = None) -> list[Path]:
    """`fervideo export`: the formats for an earlier result, from its CSV and the JSON beside it; the files written."""

    from fervideo.core.atomic import commit_group, guarded, prepare_out_dir
    from fervideo.core.errors import OutputError
    from fervideo.core.layout import output_paths
    from fervideo.outputs.results import read_table

    csv_path = Path(csv_path)
    table = read_table(csv_path)
    json_path = csv_path.with_suffix(".json")
    media, timing, min_episode = export_fields(json_path)
    out_dir = prepare_out_dir(out_dir if out_dir is not None else csv_path.parent)
    paths = output_paths(csv_path.with_suffix(".mp4"), out_dir, csv_path.stem)
    episodes, series, features = [], {}, {}
    for face_id in table.track_ids():
        rows = np.flatnonzero(table.face_id == face_id)
        series[face_id] = (table.frame[rows], table.time_s[rows], table.probs[rows])
        if table.features is not None:  # a CSV from before the face mesh's columns has none
            features[face_id] = table.features[rows]
        episodes += track_episodes(face_id, table.frame[rows], table.time_s[rows], table.probs[rows], min_episode)
    written = {kind: paths[kind] for kind in formats}
    faces = [paths["boris"].with_name(face_series_name(csv_path.stem, f)) for f in series] if "boris" in formats else []
    record = Owners(json_path, out_dir)  # the JSON beside them, or the folder's record, lists them as fervideo's
    record.check([*written.values(), *faces])  # a user's file at their names: refused before any work
    staged: list[AtomicOutput] = []

    def stage(final: Path) -> AtomicOutput:
        staged.append(AtomicOutput(final))
        return staged[-1]

    try:
        with guarded():  # a failure or a stop discards every staged file, the rewritten JSON's included
            write_exports(formats, paths, episodes, series, media, timing, stage, features)
            files = [output.final for output in staged]
            group = staged + record.stage(written, staged)
            record.verify(files)
            commit_group(group)  # the JSON that records them last
    except OSError as exc:  # a full disk or a read-only folder: one line, the earlier files as they were
        raise OutputError(f"{out_dir}: could not write the exports: {exc.strerror or exc}") from exc
    return files
