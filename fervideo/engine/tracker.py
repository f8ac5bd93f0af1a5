"""A small IoU tracker: the same face keeps the same id from frame to frame while it stays in view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fervideo.core.detections import Detections, box_iou


@dataclass(frozen=True)
class TrackerConfig:
    iou_threshold: float = 0.25  # faces move little between analysed frames; below this it is someone else
    max_missed: int = 5  # analysed frames a confirmed track may go unseen before its id is retired
    min_hits: int = 2  # consecutive analysed frames before a new face counts; drops one-frame false positives


class IoUTracker:
    """Greedy IoU matching of this frame's boxes to the live tracks' last boxes.

    update() labels each detection with its track's key at once; a new track is tentative until it has
    been matched in min_hits consecutive frames, and is dropped at its first miss before that. public_ids()
    maps keys to the ids users see (1, 2, ... in order of confirmation; 0 for tracks never confirmed), so a
    caller that holds frames back a little can report a face from its first frame, and never a flicker.
    """

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self.next_key = 1
        self.public: dict[int, int] = {}  # key -> public id, for confirmed tracks
        self.boxes = np.zeros((0, 4), np.float32)  # (T, 4) last box of each live track
        self.keys = np.zeros(0, np.int64)  # (T,) key of each live track
        self.hits = np.zeros(0, np.int64)  # (T,) consecutive matches while tentative
        self.missed = np.zeros(0, np.int64)  # (T,) analysed frames since last match

    def update(self, detections: Detections) -> Detections:
        """The faces of one analysed frame with tracker_id set to their track's key."""
        track_of = self._match(detections)  # (N,) index into live tracks, -1 for unmatched
        matched = np.zeros(len(self.keys), bool)
        matched[track_of[track_of >= 0]] = True
        has_track = track_of >= 0
        self.boxes[track_of[has_track]] = detections.xyxy[has_track]
        self.hits = np.where(matched, self.hits + 1, self.hits)
        self.missed = np.where(matched, 0, self.missed + 1)
        confirmed = np.array([key in self.public for key in self.keys], bool)
        alive = np.where(confirmed, self.missed <= self.config.max_missed, matched)
        self._keep(alive, track_of)
        new = track_of < 0
        track_of[new] = np.arange(len(self.keys), len(self.keys) + new.sum())
        self.boxes = np.concatenate([self.boxes, detections.xyxy[new]])
        self.keys = np.concatenate([self.keys, np.arange(self.next_key, self.next_key + new.sum())])
        self.next_key += int(new.sum())
        self.hits = np.concatenate([self.hits, np.ones(new.sum(), np.int64)])
        self.missed = np.concatenate([self.missed, np.zeros(new.sum(), np.int64)])
        for key in self.keys[self.hits >= self.config.min_hits]:
            self.public.setdefault(int(key), len(self.public) + 1)
        out = detections[np.arange(len(detections))]
        out.tracker_id = self.keys[track_of]
        return out

    def live_ids(self) -> set[int]:
        """Public ids of the confirmed tracks still alive (seen within max_missed analysed frames)."""
        return {self.public[int(key)] for key in self.keys if int(key) in self.public}

    def public_ids(self, keys: np.ndarray) -> np.ndarray:
        """Public ids for track keys: 1, 2, ... in order of confirmation, 0 where not confirmed (yet)."""
        return np.array([self.public.get(int(key), 0) for key in keys], np.int64)

    def _match(self, detections: Detections) -> np.ndarray:
        track_of = np.full(len(detections), -1, np.int64)
        if not len(detections) or not len(self.keys):
            return track_of
        iou = box_iou(detections.xyxy, self.boxes)  # (N, T)
        taken = np.zeros(len(self.keys), bool)
        for flat in np.argsort(-iou, axis=None, kind="stable"):
            det, track = np.unravel_index(flat, iou.shape)
            if iou[det, track] < self.config.iou_threshold:
                break
            if track_of[det] < 0 and not taken[track]:
                track_of[det], taken[track] = track, True
        return track_of

    def _keep(self, alive: np.ndarray, track_of: np.ndarray) -> None:
        """Drop dead tracks and renumber the detections' track indices to match."""
        new_index = np.cumsum(alive) - 1
        has_track = track_of >= 0
        assert alive[track_of[has_track]].all(), "a track matched this frame is alive"
        track_of[has_track] = new_index[track_of[has_track]]
        self.boxes, self.keys, self.hits, self.missed = (
            self.boxes[alive],
            self.keys[alive],
            self.hits[alive],
            self.missed[alive],
        )
