"""Rows: a track's per-frame numbers in one growing array instead of a list of small ones."""

import numpy as np

from fervideo.outputs.summary import Rows, TrackStats


def test_rows_grow_keep_order_and_start_from_an_array():
    rows = Rows(3)
    for i in range(100):
        rows.append(i, i / 10, np.array([i * 2.0]))
    assert len(rows) == 100 and rows.array.shape == (100, 3)
    np.testing.assert_array_equal(rows.array[:, 0], np.arange(100))
    np.testing.assert_allclose(rows.array[-1], [99, 9.9, 198])
    given = Rows(2, np.zeros((0, 2)))
    assert not given
    given.append(1.0, 2.0)
    np.testing.assert_array_equal(given.array, [[1.0, 2.0]])


def test_a_track_keeps_9_numbers_a_frame_in_8_bytes_each():
    track = TrackStats(1, 0, 0, 0.0, 0.0)
    for i in range(10_000):
        track.series.append(i, i / 30, np.full(7, 1 / 7, np.float32))
    frames, times, probs = track.arrays()
    assert frames.dtype == np.int64 and frames[-1] == 9_999 and probs.shape == (10_000, 7)
    assert track.series._data.nbytes <= 2 * 10_000 * 9 * 8  # at most doubled; a list of arrays took ~0.5 KB a frame
