"""The BORIS export (issue 33, items 2, 21, 22): a project BORIS opens, time series its loader reads, reruns that
clean up only their own files. An independent checker does what BORIS's reading code does; when BORIS itself is
importable (here or through FERVIDEO_BORIS_PYTHON), its own functions read the same files."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from fervideo.core.detections import FACE_FEATURES
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import face_series_files
from fervideo.outputs.boris import write_face_series
from tests.conftest import SAMPLE
from tests.helpers import read_csv

# --- an independent checker, mirroring BORIS 9.12's reading code (GPL: not copied, only its rules) ------------


def numeric_rows(path: Path, columns: str) -> np.ndarray:
    """The array BORIS plots from a data file (boris/utilities.py, txt2np_array): the delimiter sniffed from
    the first 4096 characters, every row whose fields are all non-integers counted as a header row (its
    intfloatstr turns a decimal into a string), that many rows skipped, the 1-based columns loaded."""
    with open(path) as f:
        dialect = csv.Sniffer().sniff(f.read(4096))
    with open(path) as f:
        headers = sum(all(not _is_int(x) for x in row) for row in csv.reader(f, delimiter=dialect.delimiter))
    usecols = [int(c) - 1 for c in columns.split(",")]
    with warnings.catch_warnings():  # an empty result is what the tests look for, not a warning
        warnings.simplefilter("ignore", UserWarning)
        return np.loadtxt(path, delimiter=dialect.delimiter, usecols=usecols, skiprows=headers, ndmin=2)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _full_path(name: str, project: Path) -> Path | None:
    """boris/project_functions.py, full_path: the path as given, else relative to the project's folder."""
    for candidate in (Path(name), project.parent / name):
        if candidate.exists():
            return candidate
    return None


def check_project(project: Path) -> dict:
    """What BORIS needs to open project and its observations (boris/project_functions.py: open_project_json,
    check_if_media_available, check_state_events_obs; boris/import_observations.py:
    load_observations_from_boris_project; boris/observation_operations.py: the plot_data it loads)."""
    pj = json.loads(project.read_text())
    assert tuple(int(x) for x in pj["project_format_version"].split(".")) <= (9, 12)  # else: "more recent version"
    for key in ("behaviors_conf", "subjects_conf", "observations", "converters", "coding_map"):
        assert isinstance(pj[key], dict), key
    ethogram = {b["code"]: b for b in pj["behaviors_conf"].values()}
    assert all(b["type"] == "State event" and b["key"] and "modifiers" in b for b in ethogram.values())
    assert len({b["key"] for b in ethogram.values()}) == len(ethogram)  # one keyboard key per behaviour
    subjects = {s["name"] for s in pj["subjects_conf"].values()}
    assert all({"key", "name", "description"} <= set(s) for s in pj["subjects_conf"].values())
    for obs in pj["observations"].values():
        assert obs["type"] == "MEDIA" and set(obs["file"]) == {"1", "2"}
        for media in obs["file"]["1"]:
            assert _full_path(media, project), f"media {media} not found from {project}"
            for field in ("length", "fps", "hasVideo", "hasAudio"):
                assert media in obs["media_info"][field], field  # else BORIS runs ffmpeg to fill it in
        assert isinstance(obs["time offset"], float) and isinstance(obs["description"], str) and obs["date"]
        assert obs["events"] == sorted(obs["events"], key=lambda e: e[:3])
        open_states: dict[tuple[str, str], int] = {}
        for event in obs["events"]:
            time, subject, code, modifier, comment = event  # a MEDIA event without its frame index is fine
            Decimal(str(time)).quantize(Decimal(".001"))
            assert subject in subjects and code in ethogram and modifier == "" and comment == ""
            open_states[subject, code] = open_states.get((subject, code), 0) ^ 1
        assert not any(open_states.values()), "a state event is not paired"
        assert len(obs.get("plot_data", {})) <= 2
        for plot in obs.get("plot_data", {}).values():
            assert int(plot["time_interval"]) > 0 and Decimal(plot["time_offset"]) == 0
            assert plot["substract_first_value"] == "False" and plot["converters"] == {}
            data_file = _full_path(plot["file_path"], project)
            assert data_file, plot["file_path"]
            data = numeric_rows(data_file, plot["columns"])
            assert data.shape[0] >= 2 and np.all(np.diff(data[:, 0]) > 0)  # plotted: two times at least, unique
    return pj


# --- the data files ------------------------------------------------------------------------------------------


def test_boris_takes_rows_of_decimals_for_headers_and_the_checker_agrees(tmp_path):
    # the format before the fix: time and values, all decimals; BORIS loads no row of it
    old = tmp_path / "old.tsv"
    old.write_text("time_s\thappy\n0.0000\t0.100000\n0.0400\t0.200000\n")
    assert numeric_rows(old, "1,2").shape[0] == 0
    old.write_text("time_ms\thappy\n0\t0.100000\n40\t0.200000\n")
    assert numeric_rows(old, "1,2").shape[0] == 2


def test_every_row_of_a_face_series_loads_in_seconds(tmp_path):
    times = np.array([0.0, 0.04, 0.04, 0.08, 0.2])  # a repeated time keeps its first row
    probs = np.full((5, 7), 1 / 7)
    write_face_series(tmp_path / "clip.face3.tsv", np.arange(10, 15), times, probs)
    data = numeric_rows(tmp_path / "clip.face3.tsv", "1,9")
    np.testing.assert_allclose(data[:, 0], [0.0, 0.04, 0.08, 0.2])
    with open(tmp_path / "clip.face3.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert list(rows[0]) == ["time_s", *EMOTIONS, "valence", "frame", *FACE_FEATURES]
    assert [r["frame"] for r in rows] == ["10", "11", "13", "14"]
    assert {r["yaw"] for r in rows} == {"nan"}  # no face mesh's numbers given: unknown, as numpy reads it


# --- the clean-up pattern -------------------------------------------------------------------------------------


def test_a_rerun_owns_only_its_own_face_files(tmp_path):
    names = ["a.face1.tsv", "a.face12.tsv", "a.face2.face1.tsv", "a.face2.boris", "a.facex.tsv", "a.face.tsv"]
    names += ["a[1].face1.tsv", "b.face1.tsv"]
    for name in names:
        (tmp_path / name).write_text("")
    assert [p.name for p in face_series_files(tmp_path, "x/a.mp4")] == ["a.face1.tsv", "a.face12.tsv"]
    assert [p.name for p in face_series_files(tmp_path, "a.mp4", "a[1]")] == ["a[1].face1.tsv"]


@pytest.mark.integration
def test_analyzing_a_mp4_keeps_the_exports_of_a_face2_mp4(tmp_path, media, capsys):
    from fervideo.cli import main

    for name in ("a.face2.mp4", "a.mp4"):
        shutil.copy(media("single_face.mp4"), tmp_path / name)
    out = tmp_path / "out"
    assert (
        main(["analyze", str(tmp_path / "a.face2.mp4"), "-o", str(out), "--export", "boris", "--no-video", "-q"]) == 0
    )
    theirs = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "a.face2.face1.tsv" in theirs and "a.face2.boris" in theirs
    assert main(["analyze", str(tmp_path / "a.mp4"), "-o", str(out), "--export", "boris", "--no-video", "-q"]) == 0
    assert main(["analyze", str(tmp_path / "a.mp4"), "-o", str(out), "--no-video", "-q"]) == 0
    names = {p.name for p in out.iterdir()}
    assert not any(n.startswith("a.face1") or n == "a.boris" for n in names)  # a.mp4's own exports went
    assert {name: (out / name).read_bytes() for name in theirs} == theirs


# --- the project, from a real analysis ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """demo.mp4 copied beside its outputs' folder, analysed with --export boris: (project, clip, out)."""
    from fervideo.cli import main

    root = tmp_path_factory.mktemp("boris")
    clip = root / "videos" / "demo.mp4"
    clip.parent.mkdir()
    shutil.copy(SAMPLE, clip)
    out = root / "out"
    assert main(["analyze", str(clip), "-o", str(out), "--smooth", "0.5", "--export", "boris", "--no-video", "-q"]) == 0
    return out / "demo.boris", clip, out


@pytest.mark.integration
def test_the_project_opens_as_boris_reads_it(exported, monkeypatch):
    project, clip, out = exported
    monkeypatch.chdir(project.anchor)  # BORIS resolves relative paths against the project's folder, not here
    pj = check_project(project)
    ((obs_id, obs),) = pj["observations"].items()
    assert obs_id == "demo" and obs["file"]["1"] == ["../videos/demo.mp4"]
    assert obs["media_info"]["fps"]["../videos/demo.mp4"] == pytest.approx(25, abs=0.01)
    faces = sorted({int(r["face_id"]) for r in read_csv(out / "demo.csv") if r["face_id"]})
    assert sorted(s["name"] for s in pj["subjects_conf"].values()) == [f"face {face}" for face in faces]
    assert sorted(b["code"] for b in pj["behaviors_conf"].values()) == sorted(EMOTIONS)


@pytest.mark.integration
def test_the_events_are_the_episodes_and_the_plots_the_csv(exported):
    project, clip, out = exported
    obs = json.loads(project.read_text())["observations"]["demo"]
    with open(out / "demo.episodes.csv", newline="") as f:
        episodes = list(csv.DictReader(f))
    starts = sorted([round(float(e["start_s"]), 3), f"face {e['face_id']}", e["emotion"], "", ""] for e in episodes)
    stops = sorted([round(float(e["end_s"]), 3), f"face {e['face_id']}", e["emotion"], "", ""] for e in episodes)
    assert sorted(obs["events"]) == sorted(starts + stops)
    rows = read_csv(out / "demo.csv")
    plots = list(obs["plot_data"].values())
    assert plots and len(plots) <= 2
    for plot in plots:
        face = int(plot["file_path"].removeprefix("demo.face").removesuffix(".tsv"))
        data = numeric_rows(out / plot["file_path"], plot["columns"])
        mine = [r for r in rows if r["face_id"] == str(face)]
        np.testing.assert_allclose(data[:, 0], [float(r["time_s"]) for r in mine], atol=1e-4)
        np.testing.assert_allclose(data[:, 1], [float(r["valence"]) for r in mine], atol=2e-6)


# --- BORIS itself, when it can be imported ------------------------------------------------------------------

# BORIS's modules without its GUI: boris/__init__.py starts the GUI and boris/mpv2.py needs libmpv, neither of which
# matters to reading files
BORIS_IMPORT = r"""
import importlib.util, json, sys, types
spec = importlib.util.find_spec("boris")
folder = list(spec.submodule_search_locations)[0]
sys.path.append(folder)  # BORIS 9.12's player_dock_widget imports its config as a top-level module
package = types.ModuleType("boris")
package.__path__ = [folder]
sys.modules["boris"] = package
for name in ("boris.mpv2", "boris.mpv"):
    stub = types.ModuleType(name)
    stub.sofile, stub.dll = "libmpv.so.2", ""
    sys.modules[name] = stub
"""
BORIS_SCRIPT = (
    BORIS_IMPORT
    + r"""
from boris import project_functions as pf, utilities as util, version

path = sys.argv[1]
_, changed, pj, msg = pf.open_project_json(path)
report = {"version": version.__version__, "error": pj.get("error"), "changed": changed, "message": msg, "obs": {}}
for obs_id, obs in pj.get("observations", {}).items():
    media_ok = pf.check_if_media_available(obs, path)
    paired = pf.check_state_events_obs(obs_id, pj["behaviors_conf"], obs, "s")
    plots = []
    for plot in obs.get("plot_data", {}).values():
        data_file = pf.full_path(plot["file_path"], path)
        ok, error, data = util.txt2np_array(data_file, plot["columns"], plot["substract_first_value"], {}, {})
        plots.append({"file": plot["file_path"], "ok": ok, "error": error, "rows": int(data.shape[0])})
    events = len(obs["events"])
    report["obs"][obs_id] = {"media": list(media_ok), "paired": list(paired), "events": events, "plots": plots}
print(json.dumps(report))
"""
)


def boris_python() -> str:
    """A Python that imports BORIS: $FERVIDEO_BORIS_PYTHON, else this one; skips the test when there is none."""
    python = os.environ.get("FERVIDEO_BORIS_PYTHON")
    if python:
        return python
    if importlib.util.find_spec("boris") is None:
        pytest.skip(
            "BORIS is not importable: pip install boris-behav-obs here, or point FERVIDEO_BORIS_PYTHON at a "
            "Python that has it (BORIS 9.x needs Python 3.12)"
        )
    return sys.executable


@pytest.mark.integration
def test_boris_itself_opens_the_project_and_loads_the_data_files(exported, tmp_path):
    project, clip, out = exported
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [boris_python(), "-c", BORIS_SCRIPT, str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["error"] is None and not report["changed"] and report["message"] == "", report
    obs = report["obs"]["demo"]
    assert obs["media"] == [True, ""] and obs["paired"][0] is True, obs
    assert obs["events"] == len(json.loads(project.read_text())["observations"]["demo"]["events"])
    for plot in obs["plots"]:
        expected = len((out / plot["file"]).read_text().splitlines()) - 1
        assert plot["ok"] and plot["rows"] == expected, plot
