"""The ELAN and BORIS exports at their edges: a photo or a face seen in one analysed frame, sparse sampling that
carries the last frame past the media's end, and media names ELAN must find by the links it reads.

ELAN's rules are those of its reading code (nl.mpi.util.FileUtility, urlToAbsPath and getAbsolutePath; not
copied, only what they do); BORIS's own code reads the project where it is importable (tests/outputs/test_boris.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from fervideo.core.atomic import AtomicOutput
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.episodes import Episode
from fervideo.outputs.exports import write_exports
from tests.outputs.test_boris import BORIS_IMPORT, boris_python, check_project

HAPPY = np.eye(len(EMOTIONS))[EMOTIONS.index("happy")]


def export(out: Path, episodes: list[Episode], times: dict[int, list[float]], media: Path, timing, features=None):
    """write_exports into out as clip.eaf and clip.boris (and its face series), committed."""
    out.mkdir(parents=True, exist_ok=True)
    series = {f: (np.arange(len(t)), np.array(t, np.float64), np.tile(HAPPY, (len(t), 1))) for f, t in times.items()}
    staged: list[AtomicOutput] = []

    def stage(final: Path) -> AtomicOutput:
        staged.append(AtomicOutput(final))
        return staged[-1]

    paths = {"eaf": out / "clip.eaf", "boris": out / "clip.boris"}
    write_exports(("eaf", "boris"), paths, episodes, series, media, timing, stage, features)
    for output in staged:
        output.commit()
    return paths["eaf"], paths["boris"]


def episode(face_id: int, start: float, end: float) -> Episode:
    """A happy episode of face_id from start to end seconds."""
    return Episode(face_id, "happy", start, end, 0, 0, 0.9, 0.9, start)


def eaf_spans(eaf: Path) -> dict[str, list[tuple[int, int]]]:
    """Each tier's annotations as (begin, end) milliseconds, read with pympi."""
    from pympi.Elan import Eaf

    doc = Eaf(str(eaf))
    return {tier: [(a, b) for a, b, *_ in doc.get_annotation_data_for_tier(tier)] for tier in doc.get_tier_names()}


def boris_events(project: Path) -> list[list]:
    """The events of the project's one observation."""
    (obs,) = json.loads(project.read_text())["observations"].values()
    return obs["events"]


@pytest.fixture
def video(tmp_path) -> Path:
    """An (empty) video file to link to."""
    path = tmp_path / "videos" / "clip.mp4"
    path.parent.mkdir()
    path.write_bytes(b"")
    return path


# --- one analysed frame --------------------------------------------------------------------------------------


def test_a_photo_s_faces_reach_elan_and_boris(tmp_path, video):
    # a photo: one frame at 0 s, fps 1 and 1 s long (what analyze records); each face's episode has no length
    eaf, project = export(
        tmp_path / "out", [episode(1, 0.0, 0.0), episode(2, 0.0, 0.0)], {1: [0.0], 2: [0.0]}, video, (1.0, 1.0)
    )
    spans = eaf_spans(eaf)
    assert spans["face 1"] == [(0, 1000)] and spans["face 2"] == [(0, 1000)]  # the photo's one frame, not nothing
    assert sorted(e[:3] for e in boris_events(project)) == [
        [0.0, "face 1", "happy"],
        [0.0, "face 2", "happy"],
        [1.0, "face 1", "happy"],
        [1.0, "face 2", "happy"],
    ]
    check_project(project)


def test_a_face_seen_in_one_frame_of_a_video_lasts_one_frame(tmp_path, video):
    episodes = [episode(1, 0.0, 2.0), episode(2, 1.0, 1.0)]
    eaf, project = export(tmp_path / "out", episodes, {1: [0.0, 1.0], 2: [1.0]}, video, (25.0, 4.0))
    assert eaf_spans(eaf)["face 2"] == [(1000, 1040)]
    assert sorted(e[0] for e in boris_events(project) if e[1] == "face 2") == [1.0, 1.04]


# --- the media's end -------------------------------------------------------------------------------------------


def test_no_annotation_or_event_passes_the_media_s_end(tmp_path, video):
    # --every 5 on a 2.4 s video: the last analysed frame (2.333 s) lasts one step, to 2.5 s
    times = list(np.round(np.arange(15) * 5 / 30, 4))
    features = np.zeros((15, 9))
    features[:, -1] = 1  # looking at the camera all along: a span to 2.5 s
    eaf, project = export(tmp_path / "out", [episode(1, 0.0, 2.5)], {1: times}, video, (30.0, 2.4), {1: features})
    spans = eaf_spans(eaf)
    assert spans["face 1"] == [(0, 2400)] and spans["face 1 looking at camera"] == [(0, 2400)]
    assert max(e[0] for e in boris_events(project)) == 2.4


def test_an_episode_after_the_media_s_end_is_left_out(tmp_path, video):
    # a hand-edited CSV with a row at 9 s of a 2.4 s video: no time the tools' media has
    episodes = [episode(1, 0.0, 2.0), episode(1, 9.0, 9.033)]
    eaf, project = export(tmp_path / "out", episodes, {1: [0.0, 1.0, 9.0]}, video, (30.0, 2.4))
    assert eaf_spans(eaf)["face 1"] == [(0, 2000)]
    assert sorted(e[0] for e in boris_events(project)) == [0.0, 2.0]


# --- the linked media, as ELAN looks for it ------------------------------------------------------------------


def elan_media(eaf: Path) -> tuple[Path, Path]:
    """The files ELAN tries for the linked video: MEDIA_URL less "file:" and, before "///", two slashes, nothing
    percent-decoded (FileUtility.urlToAbsPath); RELATIVE_MEDIA_URL resolved against the document's folder only
    when it starts with "./" or "../", else taken as it stands (FileUtility.getAbsolutePath)."""
    descriptor = ET.parse(eaf).getroot().find("HEADER/MEDIA_DESCRIPTOR")
    url, relative = descriptor.get("MEDIA_URL"), descriptor.get("RELATIVE_MEDIA_URL")
    url = url.removeprefix("file:")
    url = url[2:] if url.startswith("///") else url
    resolved = eaf.parent / relative if relative.startswith(("./", "../")) else Path(relative)
    return Path(url), resolved


@pytest.mark.parametrize("name", ["clip.mp4", "my clip <&\"'> é ü 日本.mp4", "a%20b #1?.mp4"])
def test_elan_finds_the_video_by_both_links(tmp_path, name, monkeypatch):
    media = tmp_path / "videos" / name
    media.parent.mkdir()
    media.write_bytes(b"")
    monkeypatch.chdir(tmp_path / "videos")  # ELAN's working folder is not the document's
    eaf, _ = export(tmp_path / "out", [episode(1, 0.0, 1.0)], {1: [0.0, 0.5]}, media, (25.0, 2.0))
    absolute, relative = elan_media(eaf)
    assert absolute == media and relative.resolve() == media.resolve()


def test_elan_finds_a_video_beside_the_document_after_the_folder_moved(tmp_path, monkeypatch):
    media = tmp_path / "study" / "clip.mp4"
    media.parent.mkdir()
    media.write_bytes(b"")
    export(tmp_path / "study", [episode(1, 0.0, 1.0)], {1: [0.0, 0.5]}, media, (25.0, 2.0))
    shutil.move(tmp_path / "study", tmp_path / "moved")
    monkeypatch.chdir(tmp_path)  # a bare "clip.mp4" would be looked for here
    _, relative = elan_media(tmp_path / "moved" / "clip.eaf")
    assert relative.resolve() == (tmp_path / "moved" / "clip.mp4").resolve()


# --- BORIS itself --------------------------------------------------------------------------------------------

BORIS_BUDGET = (
    BORIS_IMPORT
    + r"""
from boris import config as cfg, export_observation as eo, project_functions as pf

_, _, pj, _ = pf.open_project_json(sys.argv[1])
(obs_id,) = pj["observations"]
subjects = [s["name"] for s in pj["subjects_conf"].values()]
behaviors = [b["code"] for b in pj["behaviors_conf"].values()]
params = {cfg.SELECTED_SUBJECTS: subjects, cfg.SELECTED_BEHAVIORS: behaviors, "time": cfg.TIME_FULL_OBS}
data, _ = eo.export_aggregated_events(pj, params, obs_id)
print(json.dumps([[row[9], row[11], row[14], row[15]] for row in data]))
"""
)


@pytest.mark.integration
def test_boris_counts_the_time_of_a_photo_s_faces(tmp_path, video):
    _, project = export(tmp_path / "out", [episode(1, 0.0, 0.0)], {1: [0.0]}, video, (1.0, 1.0))
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [boris_python(), "-c", BORIS_BUDGET, str(project)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rows == [["face 1", "happy", "0.000", "1.000"]]  # subject, behaviour, start, stop
