"""The adaptive mode's two decisions: which frames the detector searches, and which faces are read anew."""

import numpy as np
import pytest

from fervideo.core.detections import FACE_FEATURES, Detections
from fervideo.engine.schedule import (
    CHANGE_LEVEL,
    EYE_LEVEL,
    MAX_CARRY_S,
    SEARCH_EVERY,
    STEADY_SEARCHES,
    ChangeGate,
    SearchSchedule,
    adaptive,
)
from fervideo.engine.source import Sampling, VideoInfo

BOX = np.array([[100, 100, 200, 200]], np.float32)


def searches(schedule: SearchSchedule, boxes: list[np.ndarray], frames: list[np.ndarray] | None = None) -> list[bool]:
    """Which of len(boxes) sampled frames the schedule searched, each search finding that frame's boxes."""
    out = []
    for k, found in enumerate(boxes):
        image = None if frames is None else frames[k]
        out.append(schedule.due(image))
        if out[-1]:
            schedule.found(found, image)
    return out


def picture(face_level: int | None = 200) -> np.ndarray:
    """A 360x640 BGR frame, grey with noise-free texture, a bright square face at BOX unless face_level is None."""
    frame = np.full((360, 640, 3), 90, np.uint8)
    frame[::16] = 60  # stripes, so that a box's thumbnail has structure
    if face_level is not None:
        frame[100:200, 100:200] = face_level
        frame[130:140, 120:180] = 40  # eyes
    return frame


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


def test_a_still_face_whose_picture_changes_is_searched_at_once():
    """Between the periodic searches, a frame where a face's box looks different (it left, turned, moved) is searched;
    one where it looks the same is not."""
    schedule = SearchSchedule()
    still = [picture()] * 8
    assert searches(schedule, [BOX] * 8, still) == [True] * STEADY_SEARCHES + [False] * 5
    gone = picture(face_level=None)
    assert searches(schedule, [BOX], [gone]) == [True]  # what it finds is up to the detector
    schedule = SearchSchedule()
    searches(schedule, [BOX] * 4, still)
    talking = picture()
    talking[170:180, 140:160] = 150  # a small part of the face changed a little
    assert searches(schedule, [BOX], [talking]) == [False]


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
    assert all(d.all() for d in gate.decide(ids, crop(), 0.0))
    assert not gate.decide(ids, crop(), 0.04)[0].any()  # the same picture
    assert not gate.decide(ids, crop(130), 0.08)[0].any()  # brighter as a whole: the same face in other light
    blink = crop()
    blink[0, 16:24, 8:16] -= int(EYE_LEVEL) + 2  # one block darker: an eye shutting
    assert all(d.all() for d in gate.decide(ids, blink, 0.12))  # read, its eyes too
    assert all(d.all() for d in gate.decide(ids, blink, 0.12 + MAX_CARRY_S))  # again after MAX_CARRY_S anyway
    assert all(d.all() for d in gate.decide(np.array([2]), crop(), 0.2))  # a face never read before
    assert all(d.all() for d in ChangeGate(every_frame=True).decide(ids, crop(), 0))


def test_an_eyelid_too_small_for_the_face_blocks_still_has_the_eyes_read():
    gate, ids = ChangeGate(), np.array([1])
    gate.decide(ids, crop(), 0.0)
    lid = crop()
    lid[0, 16:20, 8:12] -= int(EYE_LEVEL) + 2  # a quarter of a block: its 8x8 mean moves by a quarter of that
    assert int(EYE_LEVEL) + 2 < 4 * CHANGE_LEVEL
    read, eyes = gate.decide(ids, lid, 0.04)
    assert read.all() and eyes.all()


def test_a_face_changed_below_the_eyes_is_read_and_its_eyes_keep_their_last_reading():
    gate, ids = ChangeGate(), np.array([1])
    gate.decide(ids, crop(), 0.0)
    mouth = crop()
    mouth[0, 32:40, 16:32] += int(CHANGE_LEVEL) + 2  # the mouth opens
    read, eyes = gate.decide(ids, mouth, 0.04)
    assert read.all() and not eyes.any() and gate.eyes_read == 1
    first, other = np.full((1, 2, 76, 3), 1.0, np.float32), np.full((1, 2, 76, 3), 2.0, np.float32)
    assert (gate.eye_readings(ids, first, np.array([True])) == 1).all()  # the first frame's eyes, read
    assert (gate.eye_readings(ids, other, np.array([False])) == 1).all()  # the second frame keeps them


def test_carried_faces_take_the_reading_before_them_though_a_later_frame_of_the_batch_is_read():
    """decide() runs over a whole batch before the models and fill() after: a carried frame between two read ones
    must get the first one's reading, not the later one's, and never an empty one."""
    gate, ids = ChangeGate(), np.array([1])
    changed = crop()
    changed[0, 32:40, 32:40] = 250
    dues = [gate.decide(ids, c, t)[0] for c, t in ((crop(), 0.0), (crop(), 0.04), (changed, 0.08))]
    assert [d.tolist() for d in dues] == [[True], [False], [True]]
    first, later = np.eye(7, dtype=np.float32)[[3]], np.eye(7, dtype=np.float32)[[4]]
    frames = [faces_with(first.copy()), faces_with(np.zeros((1, 7), np.float32)), faces_with(later.copy())]
    for faces, due in zip(frames, dues, strict=True):
        gate.fill(faces, due)
    assert [f.probs.argmax() for f in frames] == [3, 3, 4]
    assert gate.analysed == 2 and gate.carried == 1
    gate.forget(set())
    assert gate.decide(ids, crop(), 0.1)[0].all()  # forgotten: read anew


def test_only_dense_video_runs_adaptive():
    video = VideoInfo("v.mp4", 300, 30.0, 640, 360)
    assert adaptive(video, Sampling()) and adaptive(video, Sampling(every=2))
    assert not adaptive(video, Sampling(every=3)) and not adaptive(video, Sampling(fps=5))
    assert not adaptive(VideoInfo("p.jpg", 1, 0.0, 640, 360, is_image=True), Sampling())


@pytest.mark.integration
def test_the_adaptive_mode_sees_the_blink_of_a_tilted_head(tmp_path):
    """single_face.mp4 turned 20 degrees: its one blink is read as --every-frame reads it (it was carried over)."""
    import cv2

    import fervideo
    from fervideo.outputs.face_features import blink_times
    from tests.conftest import shared_path

    capture, images = cv2.VideoCapture(str(shared_path("media", "single_face.mp4"))), []
    while (frame := capture.read())[0]:
        images.append(frame[1])
    h, w = images[0].shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), -20, 1.0)  # clockwise
    clip = tmp_path / "tilted.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, (w, h))
    for image in images:
        writer.write(cv2.warpAffine(image, turn, (w, h)))
    writer.release()

    def blinks(every_frame: bool) -> list[float]:
        results = [r for r in fervideo.analyze_video(clip, every_frame=every_frame) if len(r.faces)]
        eyes = [r.faces.features[0] for r in results]
        columns = [FACE_FEATURES.index("eye_open_left"), FACE_FEATURES.index("eye_open_right")]
        return blink_times(np.array([r.time_s for r in results]), np.array(eyes)[:, columns].mean(axis=1))

    expected = blinks(every_frame=True)
    assert len(expected) == 1  # the hand-counted blink, upright or turned
    assert blinks(every_frame=False) == pytest.approx(expected, abs=0.05)
