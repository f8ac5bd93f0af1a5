"""Re-identification end to end: one id per person on the sample and the shared clips, joins listed in the JSON."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLE
from tests.engine.test_identity import tiled_clip
from tests.helpers import read_json, run

pytestmark = pytest.mark.integration


def test_the_sample_person_is_one_id_with_two_segments(tmp_path, capsys):
    """The camera pans away from the sample's one person for about 2 s: the two stretches are joined."""
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--no-video", "-q")
    assert code == 0, err
    summary = read_json(tmp_path / "demo.json")
    assert [t["id"] for t in summary["tracks"]] == [1]
    segments = summary["tracks"][0]["segments"]
    assert len(segments) == 2 and segments[1]["first_time_s"] - segments[0]["last_time_s"] > 1.5
    assert summary["counts"]["joined"] == 1
    assert summary["tracker"]["same_person"] == pytest.approx(0.42)


def test_no_reid_gives_the_returning_person_a_new_id(tmp_path, capsys):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--no-video", "--no-reid", "-q")
    assert code == 0, err
    summary = read_json(tmp_path / "demo.json")
    assert [t["id"] for t in summary["tracks"]] == [1, 2]
    assert summary["counts"]["joined"] == 0 and summary["tracker"]["reid"] is False


def test_a_batch_of_the_shared_clips_has_one_id_per_person(tmp_path, capsys, media):
    people = {"single_face.mp4": 1, "face_noface.mov": 1, "noface_face.mov": 1, "no_face.mp4": 0}  # batch: videos
    code, err = run(capsys, "batch", str(media("single_face.mp4").parent), "-o", str(tmp_path), "--no-video", "-q")
    assert code == 0, err
    for name, count in people.items():
        summary = read_json(tmp_path / f"{name.rsplit('.', 1)[0]}.json")
        assert [t["id"] for t in summary["tracks"]] == list(range(1, count + 1)), name


def test_participant_and_max_people_on_five_people(tmp_path, capsys, media):
    clip = tiled_clip(media("multi_face.jpg"), tmp_path / "five.mp4")
    out = tmp_path / "out"
    code, err = run(capsys, "analyze", str(clip), "-o", str(out), "--no-video", "-q", "--participant", "center")
    assert code == 0, err
    tracks = read_json(out / "five.json")["tracks"]
    assert len(tracks) == 1 and len(tracks[0]["segments"]) == 2  # one person, hidden once and back
    code, err = run(capsys, "analyze", str(clip), "-o", str(out), "--no-video", "-q", "--max-people", "5")
    assert code == 0, err
    summary = read_json(out / "five.json")
    assert [t["id"] for t in summary["tracks"]] == [1, 2, 3, 4, 5]
    assert summary["counts"]["joined"] == 5


@pytest.mark.parametrize(
    "args, message",
    [(["--participant", "tallest"], "--participant must be"), (["--max-people", "0"], "--max-people must be 1")],
)
def test_bad_identity_options_are_one_line_errors(tmp_path, capsys, args, message):
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--no-video", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
