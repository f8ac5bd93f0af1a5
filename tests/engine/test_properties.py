"""Property-based checks of the per-face stages: squares, crops, prepare(), probabilities, tracker ids."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fervideo.core.detections import Detections
from fervideo.core.labels import EMOTIONS
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.crop import FER_FRAME_SCALE, FER_FRAME_SHIFT, crop_faces, face_squares
from fervideo.engine.preprocess import PreprocessSpec, prepare
from fervideo.engine.tracker import IoUTracker, TrackerConfig
from tests.strategies import FAST, frame_and_boxes


@functools.cache
def shipped_classifier() -> EmotionClassifier:
    return EmotionClassifier.load("cnn", "cpu")


@st.composite
def static_scene(draw) -> tuple[np.ndarray, TrackerConfig, int]:
    """1-6 faces that do not overlap (one per cell of a 4x4 grid of 60 px), a tracker config, frame count."""
    cells = draw(st.lists(st.integers(0, 15), min_size=1, max_size=6, unique=True))
    boxes = []
    for cell in cells:
        side = draw(st.floats(12, 50))
        dx, dy = draw(st.floats(0, 58 - side)), draw(st.floats(0, 58 - side))
        x0, y0 = 60 * (cell % 4) + dx, 60 * (cell // 4) + dy
        boxes.append((x0, y0, x0 + side, y0 + side))
    config = TrackerConfig(
        iou_threshold=draw(st.floats(0.05, 0.95)), max_missed=draw(st.integers(0, 5)), min_hits=draw(st.integers(1, 3))
    )
    return np.array(boxes, np.float32), config, draw(st.integers(config.min_hits, 8))


def ids_of(tracker: IoUTracker, boxes: np.ndarray, order: list[int]) -> dict[int, int]:
    """Public ids that one update gives to boxes presented in `order`, by box index."""
    out = tracker.update(Detections(boxes[order], np.full(len(order), 0.9)))
    np.testing.assert_array_equal(out.xyxy, boxes[order])  # update labels faces, it never moves or drops one
    return dict(zip(order, tracker.public_ids(out.tracker_id).tolist(), strict=True))


@given(frame_and_boxes())
@FAST
def test_face_squares_are_square_and_centred(case):
    _, _, boxes = case
    squares = face_squares(boxes)
    assert squares.shape == boxes.shape
    side = squares[:, 2:] - squares[:, :2]
    np.testing.assert_allclose(side[:, 0], side[:, 1], rtol=1e-5, atol=1e-3)
    longest = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    np.testing.assert_allclose(side[:, 0], np.maximum(longest * FER_FRAME_SCALE, 1.0), rtol=1e-5, atol=1e-3)
    centre = (squares[:, :2] + squares[:, 2:]) / 2
    expected = (boxes[:, :2] + boxes[:, 2:]) / 2 + np.array(FER_FRAME_SHIFT, np.float32) * longest[:, None]
    np.testing.assert_allclose(centre, expected, rtol=1e-5, atol=1e-2)


@given(frame_and_boxes(), st.sampled_from([24, 48, 64]))
@FAST
def test_crops_come_from_where_the_square_lies(case, size):
    """Paint each face's square (clipped to the frame) A on a B background: its crop must be all A.

    Edge replication past the border copies pixels of the square only, so a square that reaches past the
    frame still crops to A; a square wholly outside it crops to 0 (nothing to see).
    """
    height, width, boxes = case
    for box in boxes:
        x0, y0, x1, y1 = np.round(face_squares(box[None])[0]).astype(np.int64)
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        frame = np.full((height, width), 30, np.uint8)
        inside = frame[max(y0, 0) : max(min(y1, height), 0), max(x0, 0) : max(min(x1, width), 0)]
        inside[...] = 200
        (crop,) = crop_faces(frame, box[None], size)
        assert crop.shape == (size, size) and crop.dtype == np.uint8
        assert (crop == (200 if inside.size else 0)).all()
    assert crop_faces(np.zeros((height, width), np.uint8), boxes, size).shape == (len(boxes), size, size)


@given(
    st.integers(1, 4),
    st.integers(4, 64),
    st.integers(4, 64),
    st.sampled_from([1, 3]),
    st.floats(0.0, 1.0),
    st.floats(0.05, 2.0),
    st.integers(0, 2**32 - 1),
)
@FAST
def test_prepare_shapes_and_ranges(count, side, input_size, channels, mean, std, seed):
    faces = np.random.default_rng(seed).integers(0, 256, (count, side, side), dtype=np.uint8)
    spec = PreprocessSpec(input_size=input_size, channels=channels, mean=mean, std=std)
    x = prepare(faces, spec)
    assert x.shape == (count, channels, input_size, input_size) and x.dtype == np.float32
    assert np.isfinite(x).all()
    pixels = x * std + mean  # back to [0, 1]: interpolation only averages, it never overshoots
    assert pixels.min() >= -1e-4 and pixels.max() <= 1 + 1e-4
    assert (x == x[:, :1]).all()  # three channels repeat the grey one
    if side == input_size:
        np.testing.assert_allclose(x[:, 0], (faces / 255.0 - mean) / std, rtol=1e-5, atol=1e-5)


@given(st.integers(0, 6), st.booleans(), st.integers(0, 2**32 - 1))
@settings(max_examples=15, deadline=None)
def test_classifier_probabilities_sum_to_1(count, tta, seed):
    faces = np.random.default_rng(seed).integers(0, 256, (count, 48, 48), dtype=np.uint8)
    probs = shipped_classifier().predict(faces, batch_size=4, tta=tta)
    assert probs.shape == (count, len(EMOTIONS)) and probs.dtype == np.float32
    assert (probs >= 0).all() and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


@given(static_scene(), st.randoms(use_true_random=False))
@FAST
def test_static_scene_keeps_its_ids(scene, rng):
    boxes, config, frames = scene
    tracker, seen = IoUTracker(config), []
    for _ in range(frames):
        order = list(range(len(boxes)))
        rng.shuffle(order)  # the detector lists faces in any order
        seen.append(ids_of(tracker, boxes, order))
    for ids in seen[: config.min_hits - 1]:
        assert set(ids.values()) == {0}  # not confirmed yet
    settled = seen[config.min_hits - 1 :]
    assert all(ids == settled[0] for ids in settled)  # every face keeps its id, frame after frame
    assert sorted(settled[0].values()) == list(range(1, len(boxes) + 1))  # 1..n, one per face


@given(static_scene(), st.data())
@FAST
def test_a_face_unseen_for_up_to_max_missed_frames_keeps_its_id(scene, data):
    boxes, config, _ = scene
    tracker = IoUTracker(config)
    everyone = list(range(len(boxes)))
    for _ in range(config.min_hits):
        ids = ids_of(tracker, boxes, everyone)
    gone = data.draw(st.sampled_from(everyone))
    for _ in range(data.draw(st.integers(1, config.max_missed)) if config.max_missed else 0):
        ids_of(tracker, boxes, [i for i in everyone if i != gone])
    assert ids_of(tracker, boxes, everyone) == ids


@given(st.lists(frame_and_boxes(), min_size=1, max_size=8))
@FAST
def test_ids_are_unique_within_a_frame_whatever_the_boxes(frames):
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    for _, _, boxes in frames:
        out = tracker.update(Detections(boxes, np.full(len(boxes), 0.9)))
        assert len(set(out.tracker_id.tolist())) == len(boxes)
        ids = tracker.public_ids(out.tracker_id)
        assert (ids > 0).all() and len(set(ids.tolist())) == len(boxes)
