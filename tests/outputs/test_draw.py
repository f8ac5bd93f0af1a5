"""fervideo.outputs.draw: boxes and labels drawn onto frames in place."""

import numpy as np
import pytest

from fervideo.core.detections import Detections
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.draw import PALETTE, annotate


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
    # the interior, away from the label, stays untouched (a tiny frame has no room for a legible label elsewhere)
    if h >= 240:
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


def test_labels_are_legible_at_360p_and_grow_with_the_frame():
    from fervideo.outputs.draw import CAP_AT_SCALE_1, text_style

    for height, least in ((360, 14), (720, 24), (1080, 36)):
        scale, _ = text_style(np.zeros((height, height * 16 // 9, 3), np.uint8))
        assert scale * CAP_AT_SCALE_1 >= least  # cap height in pixels


def test_labels_contrast_with_their_plate():
    from fervideo.outputs.draw import ink

    assert ink((255, 255, 255)) == (0, 0, 0) and ink((0, 0, 0)) == (255, 255, 255)
    assert ink((34, 189, 188)) == (0, 0, 0)  # dark letters on the light olive of track 8


def test_a_label_does_not_cover_another_face():
    from fervideo.outputs.draw import place_label

    above = (100, 140, 200, 240)  # a face right above the box: its label goes below instead
    plate = place_label((100, 250, 200, 350), (120, 24), (640, 480), [above])
    assert plate[1] >= 350 and not (plate[1] < above[3] and above[1] < plate[3])
    # in the clear, above the box
    assert place_label((100, 250, 200, 350), (120, 24), (640, 480), [])[3] == 250


def test_group_photo_labels_do_not_overlap_each_other():
    from fervideo.outputs.draw import FONT, label_text, place_label, text_style

    frame = np.zeros((360, 640, 3), np.uint8)
    boxes = [(40 + 70 * k, 150, 100 + 70 * k, 210) for k in range(8)]  # eight faces shoulder to shoulder
    faces = Detections(
        np.array(boxes, np.float32),
        np.full(8, 0.9),
        tracker_id=np.arange(8),
        probs=np.eye(7, dtype=np.float32)[[3] * 8],
    )
    import cv2

    scale, thickness = text_style(frame)
    taken, plates = list(boxes), []
    for i, box in enumerate(boxes):
        (tw, th), base = cv2.getTextSize(label_text(faces, i, EMOTIONS), FONT, scale, thickness)
        plate = place_label(box, (tw + 8, th + base + 8), (640, 360), [b for k, b in enumerate(taken) if k != i])
        taken.append(plate)
        plates.append(plate)
    overlaps = sum(
        a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        for i, a in enumerate(plates)
        for b in plates[i + 1 :]
    )
    assert overlaps <= 2  # eight wide labels over eight narrow faces: at most a few can touch
