"""pose.face_features on made-up meshes and eyes: what a misread iris or a tilted head must never produce."""

from __future__ import annotations

import numpy as np
import pytest

from fervideo.core.detections import FACE_FEATURES
from fervideo.engine.landmarks import Marks
from fervideo.engine.pose import RIGID_INDEX, RIGID_POINTS, EyeNormaliser, _about_x, _about_y, face_features

COLUMN = {name: i for i, name in enumerate(FACE_FEATURES)}


def marks(yaw: float, pitch: float, iris_shift: tuple[float, float]) -> Marks:
    """One face turned by yaw and pitch degrees, level eyes 30 px wide, both irises iris_shift px off their eye."""
    mesh = np.zeros((1, 468, 3), np.float32)
    turn = _about_y(np.radians(-yaw)) @ _about_x(np.radians(-pitch))
    mesh[0, RIGID_INDEX] = RIGID_POINTS @ turn.T * 20 + [300, 200, 0]
    eyes = np.zeros((1, 2, 71, 2), np.float32)
    irises = np.zeros((1, 2, 5, 2), np.float32)
    for e, (outer, inner) in enumerate(((250.0, 280.0), (350.0, 320.0))):  # the person's right eye is image-left
        eyes[0, e, :, 0], eyes[0, e, :, 1] = (outer + inner) / 2, 200
        eyes[0, e, 0, 0], eyes[0, e, 8, 0] = outer, inner
        eyes[0, e, [11, 12, 13], 1], eyes[0, e, [3, 4, 5], 1] = 195, 205  # open: 10 px of 30
        irises[0, e, :] = ((outer + inner) / 2 + iris_shift[0], 200 + iris_shift[1])
    return Marks(mesh, np.ones(1, np.float32), eyes, irises, np.zeros((1, 2, 4), np.float32), None)


def test_gaze_never_points_more_than_a_right_angle_from_the_lens():
    """An iris read far off its eye (a face at the frame's edge) on a turned head: the gaze is still an angle the
    camera can see, |gaze| <= 90 degrees, as the README's ranges and the pitch's own definition have it."""
    for yaw, pitch, shift in [(0, 30, (0, -40)), (0, -30, (0, 40)), (30, 0, (40, 0)), (-30, 0, (-40, 0))]:
        values = face_features(marks(yaw, pitch, shift), np.array([1]), EyeNormaliser())[0]
        gaze = values[[COLUMN["gaze_yaw"], COLUMN["gaze_pitch"]]]
        assert np.isfinite(gaze).all() and (np.abs(gaze) <= 90).all(), (yaw, pitch, shift, gaze)
        assert values[[COLUMN["yaw"], COLUMN["pitch"]]] == pytest.approx([yaw, pitch], abs=0.01)  # the head: as is
