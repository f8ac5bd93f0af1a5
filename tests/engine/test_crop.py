"""fervideo.engine.crop: FER2013-style square framing and grey 48x48 crops, including boxes past the frame."""

import numpy as np
import pytest

from fervideo.engine.crop import FACE_SIZE, FER_FRAME_SCALE, FER_FRAME_SHIFT, crop_faces, face_squares, turned


def gradient_frame(height=200, width=300):
    """Grey level rises left to right: column x has value about 255 * x / width."""
    row = np.linspace(0, 255, width).astype(np.uint8)
    return np.tile(row, (height, 1))


def test_face_squares_side_and_centre():
    boxes = np.array([[10, 20, 50, 60], [100, 100, 160, 140]], np.float32)  # 40x40 and 60x40
    squares = face_squares(boxes)
    assert squares.shape == (2, 4)
    sides = squares[:, 2:] - squares[:, :2]
    np.testing.assert_allclose(sides[:, 0], sides[:, 1])  # square
    np.testing.assert_allclose(sides[:, 0], [40 * FER_FRAME_SCALE, 60 * FER_FRAME_SCALE], rtol=1e-5)
    centres = (squares[:, :2] + squares[:, 2:]) / 2
    expected = [
        [30 + FER_FRAME_SHIFT[0] * 40, 40 + FER_FRAME_SHIFT[1] * 40],
        [130 + FER_FRAME_SHIFT[0] * 60, 120 + FER_FRAME_SHIFT[1] * 60],
    ]
    np.testing.assert_allclose(centres, expected, rtol=1e-5)


def test_face_squares_custom_scale_no_shift():
    squares = face_squares(np.array([0, 0, 10, 20]), scale=2.0, shift=(0.0, 0.0))
    np.testing.assert_allclose(squares, [[-15, -10, 25, 30]])


def test_face_squares_empty_and_degenerate():
    assert face_squares(np.zeros((0, 4))).shape == (0, 4)
    tiny = face_squares(np.array([[5, 5, 5, 5]]))  # zero-size box still gives a one-pixel square
    np.testing.assert_allclose(tiny[0, 2:] - tiny[0, :2], [1, 1])


@pytest.mark.parametrize(
    "box",
    [
        [100, 60, 160, 120],  # inside
        [0, 0, 60, 60],  # at the top-left corner
        [240, 140, 300, 200],  # at the bottom-right corner
        [-30, -30, 30, 30],  # beyond the top-left edge
        [270, 170, 330, 230],  # beyond the bottom-right edge
        [-50, -50, 350, 250],  # bigger than the frame
        [1000, 1000, 1040, 1040],  # entirely outside
        [-100, 50, -60, 90],  # entirely outside, to the left
        [150, 100, 151, 101],  # one pixel
    ],
)
def test_crop_faces_shapes(box):
    crops = crop_faces(gradient_frame(), np.array([box], np.float32))
    assert crops.shape == (1, FACE_SIZE, FACE_SIZE)
    assert crops.dtype == np.uint8


def test_crop_faces_many_and_none():
    frame = gradient_frame()
    boxes = np.array([[10, 10, 50, 50], [-20, -20, 20, 20], [500, 500, 540, 540]], np.float32)
    assert crop_faces(frame, boxes).shape == (3, FACE_SIZE, FACE_SIZE)
    assert crop_faces(frame, np.zeros((0, 4), np.float32)).shape == (0, FACE_SIZE, FACE_SIZE)


def test_crop_faces_custom_size():
    assert crop_faces(gradient_frame(), np.array([[10, 10, 50, 50]]), size=32).shape == (1, 32, 32)


def test_crop_entirely_outside_is_black():
    crops = crop_faces(gradient_frame() + 10, np.array([[1000, 1000, 1040, 1040]], np.float32))
    assert not crops.any()


@pytest.mark.parametrize("box", [[-100, 50, -60, 90], [50, -100, 90, -60], [-100, -100, -60, -60]])
def test_crop_entirely_above_or_left_is_black(box):
    # the square ends at a negative coordinate; sliced as is, it would wrap to the frame's far side
    assert not crop_faces(gradient_frame() + 10, np.array([box], np.float32)).any()


def test_crop_reflects_the_right_region():
    frame = np.tile(np.arange(256, dtype=np.uint8), (200, 1))  # value == column
    box = np.array([[100, 80, 140, 120]], np.float32)
    (crop,) = crop_faces(frame, box)
    x0, _, x1, _ = face_squares(box)[0]
    # left column of the crop shows the square's left edge, right column its right edge
    assert abs(int(crop[:, 0].mean()) - x0) <= 2
    assert abs(int(crop[:, -1].mean()) - x1) <= 2
    assert np.all(np.diff(crop[0].astype(int)) >= 0)  # still rising left to right
    assert np.ptp(crop[:, 24]) <= 1  # and flat top to bottom
    # a box further right gives a brighter crop
    (right,) = crop_faces(frame, box + [100, 0, 100, 0])
    assert right.mean() == pytest.approx(crop.mean() + 100, abs=2)


def test_crop_of_a_marked_square():
    frame = np.zeros((120, 160), np.uint8)
    frame[40:80, 60:100] = 255  # a white 40x40 patch
    (crop,) = crop_faces(frame, np.array([[60, 40, 100, 80]], np.float32))
    # the crop is 1.15x the box, so the centre is white and the corners are black
    assert crop[20:28, 20:28].min() == 255
    assert crop[0, 0] == 0 and crop[-1, -1] == 0


def test_crop_past_the_edge_replicates_border():
    frame = np.zeros((100, 100), np.uint8)
    frame[:, :50] = 200  # left half bright
    (crop,) = crop_faces(frame, np.array([[-40, 30, 0, 70]], np.float32))  # box left of the frame edge
    # only column 0 (bright) and a sliver of the frame are visible; the pad repeats the edge column
    assert crop.min() == 200


def test_crop_straddling_the_edge_keeps_geometry():
    # value == 50 + column: a box centred on the left edge shows column 0 repeated over its left half
    frame = np.tile(50 + np.arange(200, dtype=np.uint8), (120, 1))
    box = np.array([[-20, 40, 20, 80]], np.float32)
    (crop,) = crop_faces(frame, box)
    x0, _, x1, _ = face_squares(box)[0]
    assert x0 < 0 < x1
    assert np.all(crop[:, :20] == 50)  # padding repeats the edge instead of stretching the visible part
    assert abs(int(crop[:, -1].mean()) - (50 + x1)) <= 2
    # the same along the bottom edge, with value == row
    rows = np.tile(np.arange(120, dtype=np.uint8)[:, None], (1, 160))
    (bottom,) = crop_faces(rows, np.array([[60, 100, 100, 140]], np.float32))
    assert np.all(bottom[-20:] == 119)
    assert bottom[0].mean() < 100


def test_crop_requires_a_grey_or_bgr_uint8_frame():
    with pytest.raises(AssertionError):
        crop_faces(np.zeros((10, 10, 3, 1), np.uint8), np.array([[0, 0, 5, 5]]))
    with pytest.raises(AssertionError):
        crop_faces(np.zeros((10, 10), np.float32), np.array([[0, 0, 5, 5]]))


# --- levelling the eyes (--align) ---------------------------------------------------------------


def test_a_roll_levels_the_eyes_and_keeps_the_framing():
    import cv2

    frame = np.zeros((240, 240), np.uint8)
    for eye in ((100, 100), (140, 120)):  # the eye line falls 20 px over 40
        cv2.circle(frame, eye, 4, 255, -1)
    box = np.array([[70, 60, 170, 160]], np.float32)
    tilted = crop_faces(frame, box)[0]
    level = crop_faces(frame, box, roll=np.array([np.arctan2(20, 40)]))[0]
    rows = [
        np.nonzero(face[:, :24] > 100)[0].mean() - np.nonzero(face[:, 24:] > 100)[0].mean() for face in (tilted, level)
    ]
    assert abs(rows[0]) > 6 and abs(rows[1]) < 1  # the right eye was 8 rows higher; now on the same row
    reach = lambda face: np.linalg.norm(np.argwhere(face > 100).mean(axis=0) - 23.5)  # noqa: E731
    assert reach(level) == pytest.approx(reach(tilted), abs=1)  # turned about the square's centre


def test_a_turned_crop_levels_the_eyes_as_a_levelled_crop_does():
    import cv2

    frame = np.zeros((240, 240), np.uint8)
    for eye in ((100, 100), (140, 120)):
        cv2.circle(frame, eye, 4, 255, -1)
    box, roll = np.array([[70, 60, 170, 160]], np.float32), np.array([np.arctan2(20, 40)], np.float32)
    level, cheap = crop_faces(frame, box, roll=roll)[0], turned(crop_faces(frame, box), roll)[0]
    centres = [
        [np.argwhere(face[:, half] > 100).mean(axis=0) for half in (np.s_[:24], np.s_[24:])] for face in (level, cheap)
    ]
    assert np.abs(np.array(centres[0]) - np.array(centres[1])).max() < 1.5  # each eye within a pixel or so
    assert turned(crop_faces(frame, box), np.zeros(1)).tolist() == crop_faces(frame, box).tolist()


@pytest.mark.parametrize("box", [[70, 60, 170, 160], [-20, -10, 60, 90], [250, 150, 330, 250]])
def test_a_zero_roll_is_the_plain_crop(box):
    frame = np.random.default_rng(0).integers(0, 256, (240, 320), dtype=np.uint8)
    boxes = np.array([box], np.float32)
    np.testing.assert_array_equal(crop_faces(frame, boxes, roll=np.zeros(1)), crop_faces(frame, boxes))


@pytest.mark.parametrize("roll", [None, np.array([0.0, 0.3, -0.2], np.float32)])
def test_a_bgr_frame_gives_the_crops_of_its_grey_conversion(roll):
    import cv2

    bgr = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    boxes = np.array([[20, 20, 70, 70], [-15, 60, 40, 130], [150, -10, 230, 60]], np.float32)  # two past edges
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(crop_faces(bgr, boxes, roll=roll), crop_faces(grey, boxes, roll=roll))
