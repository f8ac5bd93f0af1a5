"""Episodes (the state log), valence, and the exports to ELAN and BORIS (issue 16), checked against the CSV."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fervideo.core.labels import EMOTIONS
from fervideo.outputs.episodes import EPISODE_HEADER, track_episodes, valence
from tests.conftest import SAMPLE, shared_path
from tests.helpers import read_csv, read_json, run

HAPPY, SAD, NEUTRAL = (EMOTIONS.index(e) for e in ("happy", "sad", "neutral"))


def one_hot(labels: list[int]) -> np.ndarray:
    probs = np.full((len(labels), 7), 0.01)
    probs[np.arange(len(labels)), labels] = 0.94
    return probs


def test_valence_is_happy_minus_the_strongest_negative():
    probs = np.array([[0.1, 0.05, 0.2, 0.5, 0.05, 0.05, 0.05], [0, 0, 0, 0, 0, 1, 0], [0.6, 0, 0, 0.1, 0.3, 0, 0]])
    np.testing.assert_allclose(valence(probs), [0.5 - 0.2, 0.0, 0.1 - 0.6])  # surprise and neutral do not count


def test_a_one_frame_flicker_makes_no_episode():
    times = np.arange(30) * 0.1
    labels = [HAPPY] * 12 + [SAD] + [HAPPY] * 7 + [NEUTRAL] * 10
    episodes = track_episodes(4, np.arange(30), times, one_hot(labels), min_seconds=0.5)
    assert [(e.emotion, e.start_s, round(e.end_s, 6)) for e in episodes] == [("happy", 0.0, 2.0), ("neutral", 2.0, 3.0)]
    assert all(e.face_id == 4 for e in episodes) and episodes[1].start_frame == 20 and episodes[1].end_frame == 29
    assert episodes[0].mean_probability == pytest.approx((19 * 0.94 + 0.01) / 20)  # the flicker frame counts in


def test_with_no_minimum_every_stretch_is_an_episode():
    labels = [HAPPY] * 3 + [SAD] + [HAPPY] * 3
    episodes = track_episodes(1, np.arange(7), np.arange(7) * 0.1, one_hot(labels), min_seconds=0.0)
    assert [e.emotion for e in episodes] == ["happy", "sad", "happy"]
    assert sum(e.duration_s for e in episodes) == pytest.approx(0.7)  # contiguous, the last as long as a step


def test_an_episode_never_spans_the_time_a_face_was_out_of_view():
    # re-identification gives a face that left for 2 s its id again: seen 0-2.4 s and 4.4-6 s, neutral throughout
    times = np.r_[np.arange(0, 2.45, 0.08), np.arange(4.4, 5.95, 0.08)]
    episodes = track_episodes(1, np.arange(len(times)), times, one_hot([NEUTRAL] * len(times)), min_seconds=0.5)
    spans = [(round(e.start_s, 6), round(e.end_s, 6)) for e in episodes]
    assert spans == [(0.0, 2.48), (4.4, 6.0)]  # each stretch on screen, its last frame as long as a step
    assert sum(e.duration_s for e in episodes) == pytest.approx(2.48 + 1.6)  # no more than the time on screen


def test_a_short_stretch_does_not_join_a_neighbour_across_an_absence():
    times = np.r_[np.arange(0, 2.0, 0.1), np.arange(4.0, 4.3, 0.1)]  # back for 0.3 s, sad
    labels = [HAPPY] * 20 + [SAD] * 3
    episodes = track_episodes(1, np.arange(len(times)), times, one_hot(labels), min_seconds=0.5)
    assert [(e.emotion, round(e.start_s, 6), round(e.end_s, 6)) for e in episodes] == [
        ("happy", 0.0, 2.0),
        ("sad", 4.0, 4.3),
    ]


@pytest.fixture(scope="module", params=["sample", "single_face"])
def exported(request, tmp_path_factory):
    """An analysed clip with --smooth 0.5 --report --export eaf,boris: its folder and stem."""
    clip = SAMPLE if request.param == "sample" else shared_path("media", "single_face.mp4")
    out = tmp_path_factory.mktemp(request.param)
    from fervideo.cli import main

    args = ["analyze", str(clip), "-o", str(out), "--smooth", "0.5", "--report", "--export", "eaf,boris", "-q"]
    assert main(args) == 0
    return out, clip


def per_face(rows: list[dict]) -> dict[int, list[dict]]:
    faces: dict[int, list[dict]] = {}
    for row in rows:
        if row["face_id"]:
            faces.setdefault(int(row["face_id"]), []).append(row)
    return faces


def test_every_output_is_written(exported):
    out, clip = exported
    stem = clip.stem
    names = {p.name for p in out.iterdir()}
    expected = {f"{stem}.{s}" for s in ("csv", "json", "annotated.mp4", "report.html", "timeline.png")}
    expected |= {f"{stem}.{s}" for s in ("episodes.csv", "eaf", "boris")}
    expected |= {f"{stem}.face{face}.tsv" for face in per_face(read_csv(out / f"{stem}.csv"))}
    assert names == expected


def test_valence_column_follows_the_probabilities(exported):
    out, clip = exported
    rows = read_csv(out / f"{clip.stem}.csv")
    # valence after the 17 columns it came after, the face mesh's after it (tests/outputs/test_face_features.py)
    assert list(rows[0])[17] == "valence" and list(rows[0])[:17][-1] == "neutral"
    for row in rows:
        if row["face_id"]:
            probs = np.array([[float(row[e]) for e in EMOTIONS]])
            assert float(row["valence"]) == pytest.approx(valence(probs)[0], abs=2e-6)
        else:
            assert row["valence"] == ""


def test_episodes_are_the_csv_cut_into_stretches(exported):
    out, clip = exported
    rows, summary = read_csv(out / f"{clip.stem}.csv"), read_json(out / f"{clip.stem}.json")
    with open(out / f"{clip.stem}.episodes.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == EPISODE_HEADER
        episodes = list(reader)
    for face, face_rows in per_face(rows).items():
        mine = [e for e in episodes if int(e["face_id"]) == face]
        times = np.array([float(r["time_s"]) for r in face_rows])
        probs = np.array([[float(r[e]) for e in EMOTIONS] for r in face_rows])
        expected = track_episodes(face, np.array([int(r["frame"]) for r in face_rows]), times, probs, 0.5)
        assert [(e["emotion"], float(e["start_s"]), float(e["end_s"])) for e in mine] == [
            (x.emotion, round(x.start_s, 4), round(x.end_s, 4)) for x in expected
        ]
        assert float(mine[0]["start_s"]) == times[0] and all(float(e["duration_s"]) >= 0.5 for e in mine[1:-1])
        track = next(t for t in summary["tracks"] if t["id"] == face)
        assert track["episodes"] == len(mine)
        assert track["valence"]["mean"] == pytest.approx(valence(probs).mean(), abs=1e-5)


def test_the_eaf_reads_back_with_a_tier_per_face_and_the_episodes(exported):
    from pympi.Elan import Eaf

    out, clip = exported
    eaf = Eaf(str(out / f"{clip.stem}.eaf"))
    with open(out / f"{clip.stem}.episodes.csv", newline="") as f:
        episodes = list(csv.DictReader(f))
    faces = sorted({int(e["face_id"]) for e in episodes})
    # with the face mesh, each face's blinks and looking at the camera too (tests/outputs/test_export_features.py)
    kinds = ("", " blinks", " looking at camera")
    assert sorted(eaf.get_tier_names()) == sorted(f"face {face}{kind}" for face in faces for kind in kinds)
    for face in faces:
        got = sorted(eaf.get_annotation_data_for_tier(f"face {face}"))
        want = [
            (round(float(e["start_s"]) * 1000), round(float(e["end_s"]) * 1000), e["emotion"])
            for e in episodes
            if int(e["face_id"]) == face
        ]
        assert [(a, b, v) for a, b, v in got] == [(a, b, v) for a, b, v in want if b > a]
    vocabulary = eaf.get_cv_entries("fervideo-emotions")
    assert sorted(value[0][0][0] for value in vocabulary.values()) == sorted(EMOTIONS)
    assert eaf.media_descriptors[0]["RELATIVE_MEDIA_URL"].endswith(clip.name)


def test_boris_events_and_series_match_the_episodes_and_the_csv(exported):
    out, clip = exported
    project = json.loads((out / f"{clip.stem}.boris").read_text())
    (observation,) = project["observations"].values()
    with open(out / f"{clip.stem}.episodes.csv", newline="") as f:
        episodes = list(csv.DictReader(f))
    starts = [[round(float(e["start_s"]), 3), f"face {e['face_id']}", e["emotion"], "", ""] for e in episodes]
    stops = [[round(float(e["end_s"]), 3), f"face {e['face_id']}", e["emotion"], "", ""] for e in episodes]
    assert sorted(observation["events"]) == sorted(starts + stops)  # a state event per episode, start and stop
    assert {b["code"]: b["type"] for b in project["behaviors_conf"].values()} == dict.fromkeys(EMOTIONS, "State event")
    assert observation["file"]["1"][0].endswith(clip.name)
    for face, face_rows in per_face(read_csv(out / f"{clip.stem}.csv")).items():
        with open(out / f"{clip.stem}.face{face}.tsv", newline="") as f:
            series = list(csv.DictReader(f, delimiter="\t"))
        times = [float(r["time_s"]) for r in series]
        assert times == sorted(set(times)) and len(series) == len(face_rows)  # one row per frame, no repeats
        assert [float(r["happy"]) for r in series] == [float(r["happy"]) for r in face_rows]
        assert [r["frame"] for r in series] == [r["frame"] for r in face_rows]


def test_export_writes_the_same_files_for_an_earlier_result(exported, tmp_path, capsys):
    out, clip = exported
    code, err = run(capsys, "export", str(out / f"{clip.stem}.csv"), "--format", "boris,eaf", "-o", str(tmp_path))
    assert code == 0, err
    again, first = (json.loads((folder / f"{clip.stem}.boris").read_text()) for folder in (tmp_path, out))
    assert again["observations"].keys() == first["observations"].keys()
    for obs_id, observation in first["observations"].items():
        assert again["observations"][obs_id]["events"] == observation["events"]
        assert again["observations"][obs_id]["plot_data"] == observation["plot_data"]
    for series in out.glob(f"{clip.stem}.face*.tsv"):  # from the CSV's rounded probabilities: the last digit moves
        again_rows, first_rows = (np.loadtxt(folder / series.name, skiprows=1) for folder in (tmp_path, out))
        np.testing.assert_allclose(again_rows, first_rows, atol=2e-6)
    from pympi.Elan import Eaf

    again, first = Eaf(str(tmp_path / f"{clip.stem}.eaf")), Eaf(str(out / f"{clip.stem}.eaf"))
    for tier in first.get_tier_names():
        assert again.get_annotation_data_for_tier(tier) == first.get_annotation_data_for_tier(tier)


def test_an_unknown_export_format_is_a_usage_error(tmp_path, capsys):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--export", "eaf,praat")
    assert code == 2 and "eaf, boris" in err
