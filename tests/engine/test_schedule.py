"""The adaptive mode's two decisions: which frames the detector searches, and which faces are read anew."""

import numpy as np
import pytest

from fervideo.core.detections import Detections
from fervideo.engine.schedule import (
    CHANGE_LEVEL,
    MAX_CARRY_S,
    SEARCH_EVERY,
    STEADY_SEARCHES,
    ChangeGate,
    SearchSchedule,
    adaptive,
)
from fervideo.engine.source import Sampling, VideoInfo

BOX = np.array([[100, 100, 200, 200]], np.float32)


def searches(schedule: SearchSchedule, boxes: list[np.ndarray]) -> list[bool]:
    """Which of len(boxes) sampled frames the schedule searched, each search finding that frame's boxes."""
    out = []
    for found in boxes:
        out.append(schedule.due())
        if out[-1]:
            schedule.found(found)
    return out


def test_a_still_face_is_searched_for_until_steady_then_one_frame_in_search_every():
    done = searches(SearchSchedule(), [BOX] * 20)
    assert all(done[:STEADY_SEARCHES])
    cycle = [False] * (SEARCH_EVERY - 1) + [True]
    assert done[STEADY_SEARCHES:] == (cycle * 20)[: 20 - STEADY_SEARCHES]


@pytest.mark.parametrize(
    "later",
    [
        np.zeros((0, 4), np.float32),  # the face left
        np.concatenate([BOX, BOX + 300]),  # a second one came
        BOX + 80,  # it moved far
    ],
)
def test_every_frame_is_searched_again_once_faces_come_go_or_move(later):
    schedule = SearchSchedule()
    searches(schedule, [BOX] * 10)
    schedule.found(later)  # what the next search finds
    assert all(searches(schedule, [later] * 2)) and all(searches(SearchSchedule(), [later[:0]] * 5))


def test_every_frame_mode_searches_every_frame():
    schedule = SearchSchedule(every_frame=True)
    assert all(searches(schedule, [BOX] * 12)) and schedule.skipped == 0 and schedule.searched == 12


def crop(level: int = 100) -> np.ndarray:
    face = np.full((1, 48, 48), level, np.uint8)
    face[0, 16:24, 8:16] = level + 40  # some structure
    return face


def faces_with(probs: np.ndarray, face_id: int = 1) -> Detections:
    faces = Detections(BOX, np.ones(1))
    faces.tracker_id = np.array([face_id])
    faces.probs = probs
    return faces


def test_an_unchanged_face_is_carried_and_a_changed_one_read():
    gate = ChangeGate()
    ids = np.array([1])
    assert gate.decide(ids, crop(), 0.0).all()
    assert not gate.decide(ids, crop(), 0.04).any()  # the same picture
    assert not gate.decide(ids, crop(130), 0.08).any()  # brighter as a whole: the same face in other light
    blink = crop()
    blink[0, 16:24, 8:16] -= int(CHANGE_LEVEL) + 2  # one block darker: an eye shutting
    assert gate.decide(ids, blink, 0.12).all()
    assert gate.decide(ids, blink, 0.12 + MAX_CARRY_S).all()  # read again after MAX_CARRY_S whatever happens
    assert gate.decide(np.array([2]), crop(), 0.2).all()  # a face never read before
    assert ChangeGate(every_frame=True).decide(ids, crop(), 0).all()


def test_carried_faces_take_the_reading_before_them_though_a_later_frame_of_the_batch_is_read():
    """decide() runs over a whole batch before the models and fill() after: a carried frame between two read ones
    must get the first one's reading, not the later one's, and never an empty one."""
    gate, ids = ChangeGate(), np.array([1])
    changed = crop()
    changed[0, 32:40, 32:40] = 250
    dues = [gate.decide(ids, c, t) for c, t in ((crop(), 0.0), (crop(), 0.04), (changed, 0.08))]
    assert [d.tolist() for d in dues] == [[True], [False], [True]]
    first, later = np.eye(7, dtype=np.float32)[[3]], np.eye(7, dtype=np.float32)[[4]]
    frames = [faces_with(first.copy()), faces_with(np.zeros((1, 7), np.float32)), faces_with(later.copy())]
    for faces, due in zip(frames, dues, strict=True):
        gate.fill(faces, due)
    assert [f.probs.argmax() for f in frames] == [3, 3, 4]
    assert gate.analysed == 2 and gate.carried == 1
    gate.forget(set())
    assert gate.decide(ids, crop(), 0.1).all()  # forgotten: read anew


def test_only_dense_video_runs_adaptive():
    video = VideoInfo("v.mp4", 300, 30.0, 640, 360)
    assert adaptive(video, Sampling()) and adaptive(video, Sampling(every=2))
    assert not adaptive(video, Sampling(every=3)) and not adaptive(video, Sampling(fps=5))
    assert not adaptive(VideoInfo("p.jpg", 1, 0.0, 640, 360, is_image=True), Sampling())
