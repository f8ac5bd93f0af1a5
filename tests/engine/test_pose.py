"""The face mesh's features on real clips: ranges, mirror and rotation invariance, open eyes, a hand-counted blink."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fervideo.core.detections import FACE_FEATURES
from fervideo.engine.detector import FaceDetector
from fervideo.engine.landmarks import FaceMesh, with_eyes
from fervideo.engine.pose import RIGID_INDEX, RIGID_POINTS, EyeNormaliser, _about_x, _about_y, face_features, head_pose
from fervideo.outputs.face_features import blink_times
from tests.conftest import SAMPLE, shared_path

pytestmark = pytest.mark.integration
COLUMN = {name: i for i, name in enumerate(FACE_FEATURES)}
# single_face.mp4 looked at frame by frame (eye crops dumped to PNG): one blink, both eyes, closing at frame 25,
# shut at 26-27, half open at 28, open again from 29; no other frame has an eye closed. 30 fps.
BLINK_FRAMES = range(25, 29)
OPEN_FRAMES = [*range(0, 24), *range(31, 72)]


def frames(path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, image = capture.read()
        if not ok:
            return out
        out.append(image)


@pytest.fixture(scope="module")
def models():
    with FaceDetector() as detector:
        yield detector, FaceMesh()


def features_of(models, images: list[np.ndarray]) -> np.ndarray:
    """(F, 9) features of the best face of each frame, NaN rows where none, one track throughout."""
    detector, mesh = models
    eyes, out = EyeNormaliser(), np.full((len(images), len(FACE_FEATURES)), np.nan, np.float32)
    for i, image in enumerate(images):
        found = detector(image)[:1]
        if len(found):
            out[i] = face_features(mesh([image], [found.xyxy], [found.roll])[0], np.array([1]), eyes)[0]
    return out


@pytest.fixture(scope="module")
def single(models):
    images = frames(shared_path("media", "single_face.mp4"))
    return images, features_of(models, images)


def test_features_in_range(single, models):
    """Every frame of both clips gets all 9 numbers, in range; both people face the camera."""
    for values in (single[1], features_of(models, frames(SAMPLE)[:60])):  # demo.mp4 pans off the face at 2.4 s
        assert not np.isnan(values).any()
        angles = values[:, [COLUMN[n] for n in ("yaw", "pitch", "roll", "gaze_yaw", "gaze_pitch")]]
        assert (np.abs(angles) <= 90).all()
        assert (np.abs(values[:, :3]) < 12).all()  # both look at the camera, head level
        shares = values[:, [COLUMN[n] for n in ("eye_open_left", "eye_open_right", "mouth_open")]]
        assert ((shares >= 0) & (shares <= 1)).all()
        assert set(np.unique(values[:, COLUMN["looking_at_camera"]])) <= {0.0, 1.0}
        assert values[:, COLUMN["looking_at_camera"]].mean() > 0.9


def test_eyes_open_and_the_hand_counted_blink(single):
    """Open-eyed frames read open; the one blink is found where it is seen, and nowhere else."""
    values = single[1]
    openness = values[:, [COLUMN["eye_open_left"], COLUMN["eye_open_right"]]]
    assert openness[OPEN_FRAMES].min() > 0.6
    assert openness[[26, 27]].mean(axis=1).max() < 0.3  # both shut
    times = np.arange(len(values)) / 30
    blinks = blink_times(times, openness.mean(axis=1))
    assert len(blinks) == 1  # the hand count
    assert BLINK_FRAMES.start / 30 <= blinks[0] < BLINK_FRAMES.stop / 30


def test_a_mirrored_face_turns_and_leans_the_other_way(single, models):
    """Mirroring the frames negates yaw and roll (within 4 degrees a frame) and keeps pitch."""
    images, values = single
    mirrored = features_of(models, [np.ascontiguousarray(image[:, ::-1]) for image in images[::4]])
    values = values[::4]
    assert np.abs(mirrored[:, COLUMN["yaw"]] + values[:, COLUMN["yaw"]]).max() < 4
    assert np.abs(mirrored[:, COLUMN["roll"]] + values[:, COLUMN["roll"]]).max() < 4
    assert np.abs(mirrored[:, COLUMN["pitch"]] - values[:, COLUMN["pitch"]]).max() < 4
    eyes = [COLUMN["eye_open_left"], COLUMN["eye_open_right"]]
    assert np.abs(mirrored[:, eyes] - values[:, eyes[::-1]]).mean() < 0.05  # the left eye becomes the right one


@pytest.mark.parametrize("theta", [-20, -10, 10, 20])
def test_turning_the_picture_changes_roll_by_as_much(single, models, theta):
    """Turning the frame clockwise by theta degrees adds about theta to roll and leaves yaw and pitch alone."""
    images, values = single
    picked = images[::6]
    turned = []
    for image in picked:
        height, width = image.shape[:2]
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), -theta, 1.0)  # OpenCV turns anticlockwise
        turned.append(cv2.warpAffine(image, turn, (width, height), borderMode=cv2.BORDER_REPLICATE))
    after = features_of(models, turned)
    before = values[::6]
    assert np.abs(after[:, COLUMN["roll"]] - before[:, COLUMN["roll"]] - theta).max() < 3
    assert np.abs(after[:, COLUMN["yaw"]] - before[:, COLUMN["yaw"]]).max() < 4


def test_head_pose_recovers_a_known_rotation():
    """The rigid fit reads back the yaw, pitch and roll a canonical face was turned by (the sign conventions)."""
    for yaw, pitch, roll in [(0, 0, 0), (25, -10, 15), (-30, 20, -20)]:
        c, s = np.cos(np.radians(roll)), np.sin(np.radians(roll))
        rotation = (
            _about_y(np.radians(-yaw)) @ _about_x(np.radians(-pitch)) @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        )
        mesh = np.zeros((1, 468, 3))
        mesh[0, RIGID_INDEX] = RIGID_POINTS @ rotation.T * 20 + [300, 200, 0]
        assert head_pose(mesh)[0] == pytest.approx([yaw, pitch, roll], abs=0.01)


def test_a_reading_of_the_eyes_made_before_lands_where_the_new_mesh_puts_the_eyes(models):
    """read_eyes skips the iris model (NaN eyes); with_eyes places an earlier reading on the new mesh's eyes."""
    detector, mesh = models
    image = frames(SAMPLE)[0]
    found = detector(image)[:1]
    read = mesh([image], [found.xyxy], [found.roll])[0]
    unread = mesh([image], [found.xyxy], [found.roll], [np.zeros(1, bool)])[0]
    assert np.isnan(unread.eyes).all() and np.isnan(unread.eye_reading).all()
    assert np.abs(with_eyes(unread, read.eye_reading).eyes - read.eyes).max() < 1e-3
    moved = np.roll(image, (6, 10), axis=(0, 1))  # the same face 10 px right and 6 px down
    found.xyxy[:] += np.array([10, 6, 10, 6], np.float32)
    later = with_eyes(mesh([moved], [found.xyxy], [found.roll], [np.zeros(1, bool)])[0], read.eye_reading)
    shift = (later.irises - read.irises).reshape(-1, 2).mean(axis=0)
    assert np.abs(shift - [10, 6]).max() < 1.0
