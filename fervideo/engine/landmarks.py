"""MediaPipe's face mesh (468 points) and iris models, run on each face the detector found.

Like blazeface.py this reproduces the steps of mediapipe's graphs without mediapipe: face_landmark_front_cpu takes
a square around the short-range detector's box, 1.5 times its side, turned so that the eyes are level, and reads
it at 192x192 RGB in [0, 1]; iris_landmark_left_and_right_cpu takes a square 2.3 times the span of each eye's
corners, the person's left eye mirrored, and reads it at 64x64 RGB in [0, 1]. Both models run on ONNX Runtime,
converted from mediapipe's .tflite files by training/tflite_onnx.py, faces and eyes in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.errors import ModelError
from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, WEIGHTS_DIR, _intact
from fervideo.engine.detector import SHORT_TO_FULL_SCALE, SHORT_TO_FULL_SHIFT
from fervideo.engine.onnx_model import session

# the ONNX files training/tflite_onnx.py wrote (weights/README.md)
MESH_FILE, MESH_SHA256 = "face_landmark.onnx", "fadfa343170dbe12d707fdbe26237ee02900eb10e3b7f438fda3ae50816ed2f5"
IRIS_FILE, IRIS_SHA256 = "iris_landmark.onnx", "25c793e6a551b68aeed58762f46fbabb0ea4b070f6f9d4958b15c85e56bf350f"
# mediapipe's models in fervideo/weights/: ONNX files that are no emotion classifier
MEDIAPIPE_FILES = (SHORT_RANGE.file, FULL_RANGE.file, MESH_FILE, IRIS_FILE)
MESH_SIDE, IRIS_SIDE = 192, 64
MESH_SCALE = 1.5  # face_detection_front_detection_to_roi: the square is 1.5 times the detector's box
IRIS_SCALE = 2.3  # iris_landmark_landmarks_to_roi: 2.3 times the span of the eye's corners
MIN_PRESENCE = 0.5  # face_landmark_cpu drops a mesh whose face score is under this
# the two eyes' corners in the mesh, image-left corner first: the person's right eye, then their left one
EYE_CORNERS = ((33, 133), (362, 263))
# crops per run, which bounds the activations' memory: ONNX Runtime is not faster a crop in larger batches
# (1.3 ms a face one at a time or 8 at once, 1.5 ms an eye; one core here, docs/benchmarks.md)
BATCH = 8


@dataclass
class Marks:
    """What the models found on N faces, in frame pixels."""

    mesh: np.ndarray  # (N, 468, 3): x, y, and depth in the same pixels (smaller: nearer the camera)
    presence: np.ndarray  # (N,) the mesh model's face score
    eyes: np.ndarray  # (N, 2, 71, 2): each eye's contour and brow, image-left eye first (the person's right)
    irises: np.ndarray  # (N, 2, 5, 2): each iris's centre and 4 rim points, the same order
    eye_squares: np.ndarray  # (N, 2, 4): where each eye was looked for (centre x, centre y, side, angle)
    eye_reading: np.ndarray  # (N, 2, 76, 3): the iris model's 71 + 5 points in its crop's pixels; NaN: not read


class FaceMesh:
    """The mesh and iris models on one thread: BGR frame and boxes in, Marks out."""

    def __init__(self) -> None:
        self._mesh = session(_verified(MESH_FILE, MESH_SHA256))
        self._iris = session(_verified(IRIS_FILE, IRIS_SHA256))
        # the outputs' positions, told apart by their width: 468 points x 3 and the face score; 71 x 3 and 5 x 3
        self._mesh_outputs = _positions(self._mesh, (1404, 1))
        self._iris_outputs = _positions(self._iris, (213, 15))

    def __call__(
        self,
        images: list[np.ndarray],
        boxes: list[np.ndarray],
        rolls: list[np.ndarray],
        read_eyes: list[np.ndarray] | None = None,
    ) -> list[Marks]:
        """Marks for each frame's faces: BGR frames, their boxes (N, 4) xyxy and eye-line tilts (N,) in radians.

        read_eyes (N,) bool per frame, when given, runs the iris model on those faces only: the others' eye
        points are NaN until with_eyes() gives them a reading made before.
        """
        squares = [mesh_squares(b, r) for b, r in zip(boxes, rolls, strict=True)]
        crops = [_warp(image, s, MESH_SIDE) for image, sq in zip(images, squares, strict=True) for s in sq]
        if not crops:
            return [_empty() for _ in images]
        raw, presence = self._run_mesh(np.stack(crops))
        mesh = _unwarp(raw, np.concatenate(squares), MESH_SIDE)
        eye_squares = iris_squares(mesh)  # (F, 2, 4)
        wanted = np.ones(len(mesh), bool) if read_eyes is None else np.concatenate(read_eyes).astype(bool)
        reading = np.full((len(mesh), 2, 76, 3), np.nan, np.float32)
        if wanted.any():
            eye_crops = [
                _warp(images[f], eye_squares[k, e], IRIS_SIDE, mirror=e == 1)
                for f, k in _frame_of(squares)
                if wanted[k]
                for e in range(2)
            ]
            contours, irises = self._run_iris(np.stack(eye_crops))  # (2W, 71, 3), (2W, 5, 3)
            points = np.concatenate([contours, irises], axis=1).reshape(-1, 2, 76, 3)
            points[:, 1, :, 0] = IRIS_SIDE - points[:, 1, :, 0]  # the left eye was read mirrored
            reading[wanted] = points
        out, start = [], 0
        for sq in squares:
            end = start + len(sq)
            cut = slice(start, end)
            out.append(with_eyes(Marks(mesh[cut], presence[cut], None, None, eye_squares[cut], reading[cut])))
            start = end
        return out

    def _run_mesh(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F, 468, 3) points in crop pixels and (F,) face scores for (F, 192, 192, 3) float crops."""
        points, logit = _batched(self._mesh, self._mesh_outputs, crops)
        logit = logit.reshape(-1)
        return points.reshape(-1, 468, 3), 0.5 * (1 + np.tanh(0.5 * np.clip(logit, -100, 100)))

    def _run_iris(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Eye contours (E, 71, 3) and irises (E, 5, 3) in crop pixels for (E, 64, 64, 3) float crops."""
        contours, irises = _batched(self._iris, self._iris_outputs, crops)
        return contours.reshape(-1, 71, 3), irises.reshape(-1, 5, 3)


def with_eyes(marks: Marks, reading: np.ndarray | None = None) -> Marks:
    """marks with its eyes and irises in frame pixels from an iris reading (N, 2, 76, 3), its own by default.

    A reading made on an earlier frame lands where this frame's mesh puts the eyes: the eyes' shape and turn
    carried while the head moves.
    """
    reading = marks.eye_reading if reading is None else reading
    flat = marks.eye_squares.reshape(-1, 4)
    points = _unwarp(reading.reshape(-1, 76, 3), flat, IRIS_SIDE)[..., :2].reshape(len(reading), 2, 76, 2)
    return Marks(marks.mesh, marks.presence, points[:, :, :71], points[:, :, 71:], marks.eye_squares, reading)


def _positions(model: object, widths: tuple[int, ...]) -> list[int]:
    """Where each output of these last-axis widths comes in the session's outputs."""
    found = [output.shape[-1] for output in model.get_outputs()]
    return [found.index(width) for width in widths]


def _batched(model: object, positions: list[int], crops: np.ndarray) -> list[np.ndarray]:
    """The outputs at positions for all crops, run BATCH at a time."""
    name = model.get_inputs()[0].name
    runs = [model.run(None, {name: crops[start : start + BATCH]}) for start in range(0, len(crops), BATCH)]
    return [np.concatenate([outputs[p] for outputs in runs]) for p in positions]


def mesh_squares(xyxy: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, 4) squares as centre x, centre y, side, angle (radians) around detector boxes (N, 4) tilted by roll."""
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    side = np.max(xyxy[:, 2:] - xyxy[:, :2], axis=1) / SHORT_TO_FULL_SCALE  # back to the short-range box
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2 - np.array(SHORT_TO_FULL_SHIFT, np.float32) * side[:, None]
    return np.column_stack([centre, side * MESH_SCALE, np.asarray(roll, np.float32).reshape(-1)])


def iris_squares(mesh: np.ndarray) -> np.ndarray:
    """(F, 2, 4) squares (centre x, centre y, side, angle) around each eye, from its corners in the mesh."""
    out = np.zeros((len(mesh), 2, 4), np.float32)
    for e, (a, b) in enumerate(EYE_CORNERS):
        span = mesh[:, b, :2] - mesh[:, a, :2]
        out[:, e, :2] = (mesh[:, a, :2] + mesh[:, b, :2]) / 2
        out[:, e, 2] = IRIS_SCALE * np.abs(span).max(axis=1)  # the corners' axis-aligned box, its longer side
        out[:, e, 3] = np.arctan2(span[:, 1], span[:, 0])
    return out


def _frame_of(squares: list[np.ndarray]) -> list[tuple[int, int]]:
    """(frame, face) for each face, numbering faces across frames."""
    pairs, k = [], 0
    for f, sq in enumerate(squares):
        for _ in range(len(sq)):
            pairs.append((f, k))
            k += 1
    return pairs


def _warp(image: np.ndarray, square: np.ndarray, side: int, mirror: bool = False) -> np.ndarray:
    """The turned square of a BGR frame as (side, side, 3) float32 RGB in [0, 1], edges replicated."""
    cx, cy, span, angle = (float(v) for v in square)
    unit = span / side
    cos, sin = np.cos(angle) * unit, np.sin(angle) * unit
    # crop pixel (u, v) -> frame pixel, both as indices whose centres sit at +0.5 in continuous coordinates:
    # centre + R(angle) (u + 0.5 - side/2, v + 0.5 - side/2) * unit - 0.5
    offset = 0.5 - side / 2
    to_frame = np.array(
        [[cos, -sin, cx - 0.5 + (cos - sin) * offset], [sin, cos, cy - 0.5 + (sin + cos) * offset]], np.float64
    )
    crop = cv2.warpAffine(
        image, to_frame, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    if mirror:
        crop = crop[:, ::-1]
    rgb = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_BGR2RGB).astype(np.float32)
    rgb *= 1 / 255
    return rgb


def _unwarp(points: np.ndarray, squares: np.ndarray, side: int) -> np.ndarray:
    """Points (F, P, 3) in crop pixels back to frame pixels, depth scaled like x and y."""
    cx, cy, span, angle = (squares[:, i, None] for i in range(4))
    unit = span / side
    u, v = (points[..., 0] - side / 2) * unit, (points[..., 1] - side / 2) * unit
    x = cx + np.cos(angle) * u - np.sin(angle) * v
    y = cy + np.sin(angle) * u + np.cos(angle) * v
    return np.stack([x, y, points[..., 2] * unit], axis=-1).astype(np.float32)


def _empty() -> Marks:
    return with_eyes(
        Marks(
            np.zeros((0, 468, 3), np.float32),
            np.zeros(0, np.float32),
            None,
            None,
            np.zeros((0, 2, 4), np.float32),
            np.zeros((0, 2, 76, 3), np.float32),
        )
    )


def _verified(file: str, expected: str) -> Path:
    """A shipped model's path once its sha256 is checked: a damaged or other file would give wrong points."""
    path = WEIGHTS_DIR / file
    if not path.is_file():
        raise ModelError(f"the face landmark model {path} is missing; reinstall fervideo")
    if not _intact(path, expected):
        raise ModelError(f"{path} is not the face landmark model fervideo ships (damaged?); reinstall fervideo")
    return path
