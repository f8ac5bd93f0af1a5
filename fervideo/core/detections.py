"""Detections: the array-backed record that faces travel in between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# What the face mesh adds to each face (Detections.features, the CSV's last columns): head pose and gaze in degrees
# (fervideo/engine/pose.py gives their signs), openness in [0, 1] (the person's own left and right eye), and
# looking_at_camera 1 or 0
FACE_FEATURES = (
    "yaw",
    "pitch",
    "roll",
    "eye_open_left",
    "eye_open_right",
    "mouth_open",
    "gaze_yaw",
    "gaze_pitch",
    "looking_at_camera",
)


@dataclass
class Detections:
    """N faces in one frame: boxes in source pixels plus what later stages attach."""

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))  # (N, 4)
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (N,)
    tracker_id: np.ndarray | None = None  # (N,) int, set by the tracker
    probs: np.ndarray | None = None  # (N, 7) float, set by the classifier
    roll: np.ndarray | None = None  # (N,) radians: the eye line's tilt, set by the detector (0: eyes level)
    features: np.ndarray | None = None  # (N, 9) float32 FACE_FEATURES, NaN where unknown; None: not computed
    landmarks: np.ndarray | None = None  # (N, 468, 2) float32 face-mesh points in source pixels, NaN where unknown

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, np.float32).reshape(-1, 4)
        self.confidence = np.asarray(self.confidence, np.float32).reshape(-1)
        assert len(self.xyxy) == len(self.confidence), "one score per box"

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice) -> Detections:
        """Select faces by mask, index array or slice; optional fields follow along."""
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
            probs=None if self.probs is None else self.probs[index],
            roll=None if self.roll is None else self.roll[index],
            features=None if self.features is None else self.features[index],
            landmarks=None if self.landmarks is None else self.landmarks[index],
        )

    @classmethod
    def empty(cls) -> Detections:
        """No faces."""
        return cls()

    @property
    def area(self) -> np.ndarray:
        """Box areas in square pixels, (N,)."""
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        return wh[:, 0] * wh[:, 1]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of two box sets, (N, 4) x (M, 4) -> (N, M)."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2)
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)  # (N, M)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
