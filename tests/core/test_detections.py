"""fervideo.core.detections: box IoU and the Detections record."""

import numpy as np
import pytest

from fervideo.core.detections import Detections, box_iou


def test_iou_identical():
    box = np.array([[10, 20, 50, 80]])
    assert box_iou(box, box)[0, 0] == pytest.approx(1.0)


def test_iou_disjoint_and_touching():
    a = np.array([[0, 0, 10, 10]])
    assert box_iou(a, np.array([[20, 20, 30, 30]]))[0, 0] == 0.0
    assert box_iou(a, np.array([[10, 0, 20, 10]]))[0, 0] == 0.0  # sharing an edge is no overlap


def test_iou_half_overlap():
    a = np.array([[0, 0, 10, 10]])
    # shifted by half its width: intersection 50, union 150
    assert box_iou(a, np.array([[5, 0, 15, 10]]))[0, 0] == pytest.approx(1 / 3)
    # the top half of it: intersection 50, union 100
    assert box_iou(a, np.array([[0, 0, 10, 5]]))[0, 0] == pytest.approx(0.5)
    # contained quarter
    assert box_iou(np.array([[2, 2, 7, 7]]), a)[0, 0] == pytest.approx(0.25)


def test_iou_pairwise_shape_and_symmetry():
    rng = np.random.default_rng(1)
    top_left = rng.uniform(0, 100, (5, 2))
    a = np.hstack([top_left, top_left + rng.uniform(1, 50, (5, 2))])
    top_left = rng.uniform(0, 100, (3, 2))
    b = np.hstack([top_left, top_left + rng.uniform(1, 50, (3, 2))])
    iou = box_iou(a, b)
    assert iou.shape == (5, 3)
    np.testing.assert_allclose(iou, box_iou(b, a).T, rtol=1e-6)
    assert np.all((iou >= 0) & (iou <= 1))


def test_iou_empty_and_degenerate():
    assert box_iou(np.zeros((0, 4)), np.array([[0, 0, 1, 1]])).shape == (0, 1)
    assert box_iou(np.array([[0, 0, 1, 1]]), np.zeros((0, 4))).shape == (1, 0)
    point = np.array([[5, 5, 5, 5]])
    assert box_iou(point, point)[0, 0] == 0.0  # zero area: no division by zero


def test_detections_defaults_and_len():
    empty = Detections.empty()
    assert len(empty) == 0
    assert empty.xyxy.shape == (0, 4) and empty.confidence.shape == (0,)
    assert empty.tracker_id is None and empty.probs is None
    d = Detections([1, 2, 3, 4], [0.9])
    assert len(d) == 1 and d.xyxy.dtype == np.float32 and d.xyxy.shape == (1, 4)


def test_detections_length_mismatch():
    with pytest.raises(AssertionError):
        Detections(np.zeros((2, 4)), np.zeros(3))


def make_three():
    return Detections(
        xyxy=np.array([[0, 0, 10, 10], [5, 5, 25, 15], [100, 100, 130, 160]], np.float32),
        confidence=np.array([0.9, 0.8, 0.7]),
        tracker_id=np.array([4, 5, 6]),
        probs=np.eye(7, dtype=np.float32)[[0, 3, 6]],
    )


def test_detections_mask_carries_optional_fields():
    d = make_three()
    sub = d[np.array([True, False, True])]
    assert len(sub) == 2
    np.testing.assert_array_equal(sub.xyxy, d.xyxy[[0, 2]])
    np.testing.assert_allclose(sub.confidence, [0.9, 0.7])
    np.testing.assert_array_equal(sub.tracker_id, [4, 6])
    np.testing.assert_array_equal(sub.probs.argmax(1), [0, 6])


def test_detections_index_array_slice_and_empty_mask():
    d = make_three()
    np.testing.assert_array_equal(d[np.array([2, 0])].tracker_id, [6, 4])
    np.testing.assert_array_equal(d[1:].tracker_id, [5, 6])
    none = d[np.zeros(3, bool)]
    assert len(none) == 0 and none.probs.shape == (0, 7) and none.tracker_id.shape == (0,)


def test_detections_without_optional_fields_stay_none():
    d = Detections(np.array([[0, 0, 1, 1], [1, 1, 2, 2]]), [0.5, 0.6])
    sub = d[np.array([False, True])]
    assert sub.tracker_id is None and sub.probs is None


def test_detections_index_is_a_copy_of_fields():
    d = make_three()
    sub = d[np.array([True, True, False])]
    sub.tracker_id[0] = 99
    assert d.tracker_id[0] == 4  # mask indexing copies


def test_area():
    d = Detections(np.array([[0, 0, 10, 20], [5, 5, 5, 8], [10, 10, 0, 0]]), [1, 1, 1])
    np.testing.assert_allclose(d.area, [200, 0, 0])
