"""fervideo.draw: boxes and labels drawn onto frames in place."""

import numpy as np
import pytest

from fervideo.detections import Detections
from fervideo.draw import PALETTE, annotate


def one_face(box=(60, 50, 140, 130), track=1, probs=True):
    return Detections(
        np.array([box], np.float32),
        np.array([0.9]),
        tracker_id=np.array([track]),
        probs=np.eye(7, dtype=np.float32)[[3]] if probs else None,
    )


@pytest.mark.parametrize("shape", [(240, 320, 3), (1080, 1920, 3), (60, 80, 3)])
def test_annotate_draws_inside_box_region(shape):
    frame = np.zeros(shape, np.uint8)
    h, w = shape[:2]
    box = (w // 4, h // 3, w // 2, 2 * h // 3)
    out = annotate(frame, one_face(box))
    assert out is frame  # in place
    assert out.shape == shape and out.dtype == np.uint8
    x0, y0, x1, y1 = box
    changed = out.any(axis=2)
    # the box outline is drawn on its edges
    assert changed[y0, x0:x1].any() and changed[y1, x0:x1].any()
    assert changed[y0:y1, x0].any() and changed[y0:y1, x1].any()
    # the interior, away from the label, stays untouched
    assert not changed[y0 + (y1 - y0) // 2 - 2 : y0 + (y1 - y0) // 2 + 2, x0 + 8 : x1 - 8].any()
    # the far corner of the frame is untouched
    assert not changed[-3:, -3:].any()


def test_annotate_uses_track_colour():
    frame = np.zeros((240, 320, 3), np.uint8)
    annotate(frame, one_face(track=2, probs=False))
    colour = PALETTE[2]
    assert (frame == colour).all(axis=2).sum() > 100


def test_label_text_differs_with_emotion():
    a, b = np.zeros((240, 320, 3), np.uint8), np.zeros((240, 320, 3), np.uint8)
    face = one_face()
    annotate(a, face)
    face.probs = np.eye(7, dtype=np.float32)[[5]]
    annotate(b, face)
    assert not np.array_equal(a, b)


def test_annotate_zero_faces_leaves_frame_alone():
    frame = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    before = frame.copy()
    out = annotate(frame, Detections.empty())
    assert out is frame
    np.testing.assert_array_equal(out, before)


def test_annotate_without_optional_fields_and_at_edges():
    frame = np.zeros((100, 100, 3), np.uint8)
    faces = Detections(np.array([[0, 0, 30, 30], [80, 80, 130, 130], [-20, 40, 10, 70]], np.float32), [1, 1, 1])
    annotate(frame, faces)  # no tracker_id, no probs, boxes touching and past the edges
    assert frame.shape == (100, 100, 3) and frame.any()
