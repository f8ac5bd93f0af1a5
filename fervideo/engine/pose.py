"""From face-mesh points to head pose, eye and mouth openness, and gaze: geometry only, no model.

Angles are in degrees, seen from the camera: yaw > 0 the face turns towards the image's right (the person's
left), pitch > 0 it tilts up, roll > 0 it leans clockwise in the image (the eye line's tilt, as Detections.roll).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from fervideo.core.detections import FACE_FEATURES
from fervideo.engine.landmarks import MIN_PRESENCE, Marks

# Points of mediapipe's canonical face model (face_geometry/data/canonical_face_model.obj, in cm: x to the
# person's left, y up, z out of the face) that an expression hardly moves: eye corners, nose, forehead.
# Chin and mouth are left out: an open mouth would read as the head tilting.
RIGID = {
    33: (-4.445859, 2.663991, 3.173422),
    133: (-1.856432, 2.585245, 3.757904),
    362: (1.856432, 2.585245, 3.757904),
    263: (4.445859, 2.663991, 3.173422),
    1: (0.0, -1.126865, 7.475604),
    4: (0.0, -0.463170, 7.586580),
    5: (0.0, 0.365669, 7.242870),
    6: (0.0, 2.473255, 5.788627),
    8: (0.0, 4.019042, 5.284764),
    9: (0.0, 4.885979, 5.385258),
    10: (0.0, 8.261778, 4.481535),
}
RIGID_INDEX = np.array(list(RIGID))
# the canonical points in the camera's axes for a face looking into it: x right, y down, z away from the camera
RIGID_POINTS = np.array(list(RIGID.values())) * np.array([1.0, -1.0, -1.0])

# The iris model's eye contour: 0 and 8 the corners, 1-7 the lower lid, 9-15 the upper lid; these pairs face
# each other across the eye (mesh points 160/144, 159/145, 158/153 of the person's right eye)
LID_PAIRS = ((11, 3), (12, 4), (13, 5))
# Half the eye's opening over the eyeball's radius (about 15 mm over 12 mm): how far the iris moves, as a share
# of half the eye's width, when the eye turns 90 degrees; only the order of magnitude matters to the tolerance
EYE_REACH = 1.25
# Where the iris centre rests, looking straight ahead, in half eye widths below the corners' line: above it
# (measured on the two frontal faces of single_face.mp4 and samples/demo.mp4: 0.17 and 0.18)
IRIS_REST = -0.17
CLOSED_ASPECT = 0.05  # eye aspect of a shut eye (0.04-0.07 on the blinks of single_face.mp4)
OPEN_QUANTILE = 90  # a track's open eye: this percentile of its recent eye aspects
HISTORY = 300  # analysed frames of a track that set its open eye
MOUTH = (13, 14)  # inner lips, upper then lower
OUTER_EYE_CORNERS = (33, 263)
LOOK_TOLERANCE = 10.0  # degrees: gaze within this of the lens on both axes counts as looking at the camera
HEAD_TOLERANCE = 30.0  # degrees: beyond this head turn the far iris is hidden and the gaze estimate unreliable
OPEN_EYE = 0.5  # normalised openness under which the iris is too covered to read the gaze


def head_pose(mesh: np.ndarray) -> np.ndarray:
    """(N, 3) yaw, pitch, roll of meshes (N, 468, 3): a rigid fit of the canonical face's RIGID points."""
    out = np.zeros((len(mesh), 3), np.float32)
    for i, points in enumerate(np.asarray(mesh, np.float64)):
        rotation = _rotation(RIGID_POINTS, points[RIGID_INDEX])
        forward = rotation @ np.array([0.0, 0.0, -1.0])  # out of the face, towards the camera when frontal
        across = rotation @ np.array([1.0, 0.0, 0.0])  # to the person's left
        yaw = np.arctan2(forward[0], -forward[2])
        pitch = np.arctan2(-forward[1], np.hypot(forward[0], forward[2]))
        # the eye line's tilt once yaw and pitch are undone, so that a turned head does not read as leaning
        level = _about_x(pitch) @ _about_y(yaw) @ across
        out[i] = np.degrees([yaw, pitch, np.arctan2(level[1], level[0])])
    return out


def eye_aspect(eyes: np.ndarray) -> np.ndarray:
    """(N, 2) each eye's opening over its width (eyelid contours (N, 2, 71, 2)); about 0.3 open, under 0.1 shut."""
    width = np.linalg.norm(eyes[:, :, 0] - eyes[:, :, 8], axis=-1)
    gaps = [np.linalg.norm(eyes[:, :, a] - eyes[:, :, b], axis=-1) for a, b in LID_PAIRS]
    return (np.mean(gaps, axis=0) / np.maximum(width, 1e-6)).astype(np.float32)


def mouth_open(mesh: np.ndarray) -> np.ndarray:
    """(N,) the inner lips' gap over the outer eye corners' distance, in [0, 1]: 0 shut, about 0.5 wide open."""
    gap = np.linalg.norm(mesh[:, MOUTH[0], :2] - mesh[:, MOUTH[1], :2], axis=-1)
    span = np.linalg.norm(mesh[:, OUTER_EYE_CORNERS[0], :2] - mesh[:, OUTER_EYE_CORNERS[1], :2], axis=-1)
    return np.clip(gap / np.maximum(span, 1e-6), 0, 1).astype(np.float32)


def eye_turn(eyes: np.ndarray, irises: np.ndarray) -> np.ndarray:
    """(N, 2) the eyes' turn in the head, yaw and pitch in degrees (mean of both eyes), from iris and corners."""
    # each eye's image-left and image-right corner: contour point 0 is the outer corner, 8 the inner one
    left = np.stack([eyes[:, 0, 0], eyes[:, 1, 8]], axis=1)
    right = np.stack([eyes[:, 0, 8], eyes[:, 1, 0]], axis=1)
    middle, half = (left + right) / 2, np.linalg.norm(right - left, axis=-1) / 2
    along = (right - left) / np.maximum(2 * half[..., None], 1e-6)
    down = np.stack([-along[..., 1], along[..., 0]], axis=-1)
    offset = irises[:, :, 0] - middle
    across = np.sum(offset * along, axis=-1) / np.maximum(half, 1e-6)
    vertical = np.sum(offset * down, axis=-1) / np.maximum(half, 1e-6) - IRIS_REST
    yaw = np.degrees(np.arcsin(np.clip(across * EYE_REACH, -1, 1)))
    pitch = -np.degrees(np.arcsin(np.clip(vertical * EYE_REACH, -1, 1)))
    return np.stack([yaw.mean(axis=1), pitch.mean(axis=1)], axis=-1).astype(np.float32)


def face_features(marks: Marks, ids: np.ndarray, eyes: EyeNormaliser) -> np.ndarray:
    """(N, 9) FACE_FEATURES of N faces of one frame (tracks ids), NaN where the mesh found no face.

    gaze is the head's angle plus the eyes' turn in it: 0, 0 looks into the lens. Call in time order: each
    eye's openness is its aspect against the track's open eye so far.
    """
    out = np.full((len(ids), len(FACE_FEATURES)), np.nan, np.float32)
    found = marks.presence >= MIN_PRESENCE
    if not found.any():
        return out
    mesh, contours, irises = marks.mesh[found], marks.eyes[found], marks.irises[found]
    pose = head_pose(mesh)
    openness = eyes(np.asarray(ids)[found], eye_aspect(contours))  # (F, 2): the person's right eye, then left
    # an iris the camera sees points within a right angle of the lens: a sum past it is a misread eye
    gaze = np.clip(pose[:, :2] + eye_turn(contours, irises), -90, 90)
    looking = (
        np.all(np.abs(pose[:, :2]) <= HEAD_TOLERANCE, axis=1)
        & np.all(np.abs(gaze) <= LOOK_TOLERANCE, axis=1)
        & (openness.mean(axis=1) >= OPEN_EYE)
    )
    out[found] = np.column_stack([pose, openness[:, 1], openness[:, 0], mouth_open(mesh), gaze, looking])
    return out


class EyeNormaliser:
    """Eye aspect to openness per track: 0 shut (CLOSED_ASPECT), 1 as open as the track's eyes usually are."""

    def __init__(self) -> None:
        self._history: dict[int, deque[np.ndarray]] = {}

    def __call__(self, ids: np.ndarray, aspect: np.ndarray) -> np.ndarray:
        """(N, 2) openness in [0, 1] for the aspects (N, 2) of tracks ids, remembering them."""
        out = np.zeros_like(aspect)
        for i, track in enumerate(ids):
            history = self._history.setdefault(int(track), deque(maxlen=HISTORY))
            history.append(aspect[i])
            # a floor: a track first seen with its eyes shut must not call that open
            wide = np.maximum(np.percentile(np.stack(history), OPEN_QUANTILE, axis=0), CLOSED_ASPECT + 0.1)
            out[i] = np.clip((aspect[i] - CLOSED_ASPECT) / (wide - CLOSED_ASPECT), 0, 1)
        return out

    def forget(self, live: set[int]) -> None:
        """Drop the tracks that are gone: its memory follows the live tracks, however long the video."""
        self._history = {k: v for k, v in self._history.items() if k in live}


def _rotation(model: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """The rotation R of the best similarity fit seen ~ s R model + t (Umeyama), (3, 3)."""
    a, b = model - model.mean(axis=0), seen - seen.mean(axis=0)
    u, _, vt = np.linalg.svd(b.T @ a)
    flip = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    return u @ flip @ vt


def _about_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _about_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])
