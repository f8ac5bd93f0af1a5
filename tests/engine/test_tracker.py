"""fervideo.engine.tracker: the IoU tracker keeps ids for faces that stay, gives new ones to faces that come.

update() labels detections with internal track keys; public_ids() turns keys into the ids users see
(1, 2, ... in order of confirmation, 0 while a track is tentative).
"""

import numpy as np
import pytest

from fervideo.core.detections import Detections
from fervideo.engine.tracker import IoUTracker, TrackerConfig


def dets(*boxes):
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    return Detections(boxes, np.full(len(boxes), 0.9))


def box(x, y, side=40):
    return [x, y, x + side, y + side]


def keys_of(tracker, *boxes):
    """Track keys update() gives to the boxes of one frame."""
    out = tracker.update(dets(*boxes))
    assert out.tracker_id is not None and len(out.tracker_id) == len(boxes)
    return out.tracker_id.tolist()


def public(tracker, keys):
    return tracker.public_ids(np.array(keys, np.int64)).tolist()


def test_static_box_keeps_id():
    tracker = IoUTracker()
    keys = [keys_of(tracker, box(10, 10)) for _ in range(10)]
    assert all(k == keys[0] for k in keys)
    assert public(tracker, keys[0]) == [1]


def test_slowly_moving_box_keeps_id():
    tracker = IoUTracker()
    keys = [keys_of(tracker, box(10 + 4 * t, 20 + 2 * t))[0] for t in range(50)]  # travels 200 px in all
    assert len(set(keys)) == 1
    assert public(tracker, keys[:1]) == [1]


def test_new_face_is_tentative_until_min_hits():
    tracker = IoUTracker(TrackerConfig(min_hits=3))
    first = keys_of(tracker, box(10, 10))
    assert public(tracker, first) == [0]
    assert keys_of(tracker, box(10, 10)) == first
    assert public(tracker, first) == [0]
    assert keys_of(tracker, box(10, 10)) == first
    assert public(tracker, first) == [1]  # confirmed; the earlier frames' key now maps to id 1 too


def test_min_hits_one_confirms_at_once():
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    assert public(tracker, keys_of(tracker, box(10, 10), box(300, 10))) == [1, 2]


def test_one_frame_flicker_never_gets_an_id():
    tracker = IoUTracker()  # min_hits 2
    flicker = keys_of(tracker, box(10, 10))
    assert keys_of(tracker) == []  # gone at once: dropped, never confirmed
    assert public(tracker, flicker) == [0]
    real = keys_of(tracker, box(10, 10))
    assert real != flicker  # the dropped tentative track is not revived
    keys_of(tracker, box(10, 10))
    assert public(tracker, real) == [1]  # the flicker used up no public id


def test_unknown_keys_map_to_zero():
    assert public(IoUTracker(), [5, 17]) == [0, 0]
    assert IoUTracker().public_ids(np.zeros(0, np.int64)).shape == (0,)


def test_update_returns_copy_with_boxes_in_order():
    tracker = IoUTracker()
    d = dets(box(0, 0), box(200, 0))
    out = tracker.update(d)
    np.testing.assert_array_equal(out.xyxy, d.xyxy)
    assert d.tracker_id is None  # the input is left alone
    assert out.tracker_id.dtype.kind == "i"
    assert len(set(out.tracker_id.tolist())) == 2


def test_new_face_gets_new_id():
    tracker = IoUTracker()
    (a,) = keys_of(tracker, box(10, 10))
    keys_of(tracker, box(10, 10))
    a2, b = keys_of(tracker, box(10, 10), box(300, 10))
    assert a2 == a and b != a
    assert keys_of(tracker, box(300, 10), box(10, 10)) == [b, a]  # order of detections does not matter
    a3, b3, c = keys_of(tracker, box(10, 10), box(300, 10), box(150, 200))
    assert (a3, b3) == (a, b) and c not in (a, b)
    keys_of(tracker, box(10, 10), box(300, 10), box(150, 200))
    assert public(tracker, [a, b, c]) == [1, 2, 3]  # public ids in order of confirmation


def test_jump_is_a_new_face():
    tracker = IoUTracker()
    (a,) = keys_of(tracker, box(10, 10))
    (b,) = keys_of(tracker, box(200, 200))  # no overlap with the old box
    assert b != a


def test_empty_frames():
    tracker = IoUTracker()
    out = tracker.update(Detections.empty())
    assert len(out) == 0 and out.tracker_id.shape == (0,)
    assert len(keys_of(tracker, box(0, 0))) == 1


def confirmed(tracker, *boxes):
    """Run two frames so the faces are confirmed; their keys."""
    keys = keys_of(tracker, *boxes)
    assert keys_of(tracker, *boxes) == keys
    assert all(i > 0 for i in public(tracker, keys))
    return keys


@pytest.mark.parametrize("max_missed", [0, 1, 3, 5])
def test_survives_max_missed_frames(max_missed):
    tracker = IoUTracker(TrackerConfig(max_missed=max_missed))
    (a,) = confirmed(tracker, box(10, 10))
    for _ in range(max_missed):
        assert keys_of(tracker) == []
    assert keys_of(tracker, box(12, 10)) == [a]
    assert public(tracker, [a]) == [1]


@pytest.mark.parametrize("max_missed", [0, 1, 3, 5])
def test_retired_after_more_than_max_missed_frames(max_missed):
    tracker = IoUTracker(TrackerConfig(max_missed=max_missed))
    (a,) = confirmed(tracker, box(10, 10))
    for _ in range(max_missed + 1):
        keys_of(tracker)
    (b,) = keys_of(tracker, box(10, 10))
    assert b != a
    keys_of(tracker, box(10, 10))
    assert public(tracker, [a, b]) == [1, 2]  # the old id is not reused


def test_missing_counter_resets_when_seen():
    tracker = IoUTracker(TrackerConfig(max_missed=2))
    (a,) = confirmed(tracker, box(10, 10))
    for t in range(12):  # seen every third frame: two misses between sightings, never three
        if t % 3 == 2:
            assert keys_of(tracker, box(10, 10)) == [a]
        else:
            assert keys_of(tracker) == []


def test_other_face_keeps_track_alive_of_missing_one():
    tracker = IoUTracker(TrackerConfig(max_missed=5))
    a, b = confirmed(tracker, box(10, 10), box(300, 10))
    for _ in range(4):
        assert keys_of(tracker, box(300, 10)) == [b]  # face a hidden
    assert keys_of(tracker, box(10, 10), box(300, 10)) == [a, b]


def test_crossing_faces_keep_ids():
    # two faces walk towards each other along separate rows, pass and walk on; their boxes overlap a little
    tracker = IoUTracker()
    history = []
    for t in range(40):
        a = box(10 + 8 * t, 100)
        b = box(330 - 8 * t, 130)  # 30 px lower: the boxes overlap when level, each overlaps itself more
        keys = keys_of(tracker, a, b) if t % 2 else keys_of(tracker, b, a)[::-1]
        history.append(keys)
    assert all(keys == history[0] for keys in history)
    assert sorted(public(tracker, history[0])) == [1, 2]


def test_iou_threshold_respected():
    strict = IoUTracker(TrackerConfig(iou_threshold=0.5))
    first = keys_of(strict, [0, 0, 10, 10])
    assert keys_of(strict, [5, 0, 15, 10]) != first  # IoU 1/3 is below 0.5: someone else
    loose = IoUTracker(TrackerConfig(iou_threshold=0.25))
    first = keys_of(loose, [0, 0, 10, 10])
    assert keys_of(loose, [5, 0, 15, 10]) == first


def test_two_detections_compete_for_one_track():
    tracker = IoUTracker()
    (a,) = confirmed(tracker, box(0, 0))
    # both overlap track a; the better match keeps the key, the other is a new face
    far, near = keys_of(tracker, box(20, 0), box(2, 0))
    assert near == a and far != a


def test_keys_never_reused():
    tracker = IoUTracker(TrackerConfig(max_missed=0, min_hits=1))
    seen = []
    for t in range(6):
        seen += keys_of(tracker, box(500 * t, 0))
    assert len(set(seen)) == 6
    assert public(tracker, seen) == [1, 2, 3, 4, 5, 6]
