"""A small IoU tracker: the same face keeps the same id from frame to frame while it stays in view.

With an embedder (engine/identity.py) a face that comes back after its track ended gets its old id again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fervideo.core.detections import Detections, box_iou
from fervideo.engine.identity import REFRESH, SAME_PERSON, FaceEmbedder, Gallery

RETRY = 5  # analysed frames between two tries to name a face that --max-people left waiting


@dataclass(frozen=True)
class TrackerConfig:
    iou_threshold: float = 0.25  # faces move little between analysed frames; below this it is someone else
    max_missed: int = 5  # analysed frames a confirmed track may go unseen before its id is retired
    min_hits: int = 2  # consecutive analysed frames before a new face counts; drops one-frame false positives
    reid: bool = True  # a new track is compared with the people seen before (face embeddings) and may take their id
    same_person: float = SAME_PERSON  # embedding distance under which a new track is someone seen before
    max_people: int | None = None  # at most this many ids: beyond, a new face is the nearest person out of view


class IoUTracker:
    """Greedy IoU matching of this frame's boxes to the live tracks' last boxes.

    update() labels each detection with its track's key at once; a new track is tentative until it has
    been matched in min_hits consecutive frames, and is dropped at its first miss before that. public_ids()
    maps keys to the ids users see (1, 2, ... in order of confirmation; 0 for tracks never confirmed), so a
    caller that holds frames back a little can report a face from its first frame, and never a flicker.
    """

    def __init__(self, config: TrackerConfig = TrackerConfig(), embedder: FaceEmbedder | None = None) -> None:
        self.config = config
        self.next_key = 1
        self.public: dict[int, int] = {}  # key -> public id, for confirmed tracks
        self.known = 0  # public ids given so far: 1..known
        self.embedder = embedder
        reid = embedder is not None or config.max_people is not None
        self.gallery = Gallery(config.same_person, config.max_people) if reid else None
        self.seen: dict[int, int] = {}  # public id -> analysed frames it was in, for the gallery's refresh
        self.boxes = np.zeros((0, 4), np.float32)  # (T, 4) last box of each live track
        self.keys = np.zeros(0, np.int64)  # (T,) key of each live track
        self.hits = np.zeros(0, np.int64)  # (T,) consecutive matches while tentative
        self.missed = np.zeros(0, np.int64)  # (T,) analysed frames since last match

    def update(self, detections: Detections, image: np.ndarray | None = None, skipped: int = 0) -> Detections:
        """The faces of one analysed frame with tracker_id set to their track's key; image: the BGR frame, for re-id;
        skipped: analysed frames since the last update (the adaptive mode's skipped searches)."""
        track_of = self._match(detections, skipped > 0)  # (N,) index into live tracks, -1 for unmatched
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
        self._confirm(detections, track_of, image)
        out = detections[np.arange(len(detections))]
        out.tracker_id = self.keys[track_of]
        return out

    def live_ids(self) -> set[int]:
        """Public ids of the confirmed tracks still alive (seen within max_missed analysed frames)."""
        return {self.public[int(key)] for key in self.keys if int(key) in self.public}

    def public_ids(self, keys: np.ndarray) -> np.ndarray:
        """Public ids for track keys: 1, 2, ... in order of confirmation, 0 where not confirmed (yet)."""
        return np.array([self.public.get(int(key), 0) for key in keys], np.int64)

    def _confirm(self, detections: Detections, track_of: np.ndarray, image: np.ndarray | None) -> None:
        """Give public ids to the tracks seen min_hits times: a new one, or with re-id someone's out of view."""
        hits = self.hits - self.config.min_hits
        ready = [
            i
            for i in np.flatnonzero(hits >= 0)
            if int(self.keys[i]) not in self.public and (self.gallery is None or hits[i] % RETRY == 0)
        ]
        if self.gallery is None:
            for i in ready:
                self.known += 1
                self.public[int(self.keys[i])] = self.known
            return
        ids = self._in_view(track_of)
        if ready:
            rows = np.array([np.flatnonzero(track_of == i)[0] for i in ready])
            given = self.gallery.assign(self._embed(detections[rows], image), set(ids), self.known)
            for i, person in zip(ready, given, strict=True):
                if person is not None:  # None: --max-people is reached and everyone is in view; asked again later
                    self.public[int(self.keys[i])] = person
                    self.known = max(self.known, person)
            self._retire(track_of, given)
            ids = self._in_view(track_of)
        self._refresh(detections, track_of, ids, image)

    def _in_view(self, track_of: np.ndarray) -> np.ndarray:
        """(N,) public id of each detection's track, 0 where not confirmed."""
        return self.public_ids(self.keys[track_of]) if len(track_of) else np.zeros(0, np.int64)

    def _retire(self, track_of: np.ndarray, given: list[int | None]) -> None:
        """End the unseen tracks of people a new track was just named after: one id, one live track."""
        matched = np.zeros(len(self.keys), bool)
        matched[track_of] = True
        ids = self.public_ids(self.keys)
        gone = ~matched & np.isin(ids, [g for g in given if g is not None])
        if gone.any():
            self._keep(~gone, track_of)

    def _refresh(self, detections: Detections, track_of: np.ndarray, ids: np.ndarray, image: np.ndarray | None) -> None:
        """Add a view of each person in view every REFRESH analysed frames, so that later matches see them turned."""
        due = []
        for row, person in enumerate(ids):
            if person > 0:
                self.seen[person] = self.seen.get(person, 0) + 1
                if self.seen[person] % REFRESH == 0:
                    due.append(row)
        if due and self.embedder is not None and image is not None:
            for row, embedding in zip(due, self._embed(detections[np.array(due)], image), strict=True):
                self.gallery.add(int(ids[row]), embedding)

    def _embed(self, faces: Detections, image: np.ndarray | None) -> np.ndarray:
        """Embeddings of faces, NaN rows without an embedder or a frame."""
        if self.embedder is None or image is None:
            return np.full((len(faces), 128), np.nan, np.float32)
        return self.embedder(image, faces.xyxy, faces.roll)

    def _match(self, detections: Detections, after_gap: bool = False) -> np.ndarray:
        track_of = np.full(len(detections), -1, np.int64)
        if not len(detections) or not len(self.keys):
            return track_of
        iou = box_iou(detections.xyxy, self.boxes)  # (N, T)
        taken = np.zeros(len(self.keys), bool)
        _pair_greedily(iou, self.config.iou_threshold, track_of, taken)
        if after_gap:  # a face that moved for a few unsearched frames may have left its box: the nearest within a side
            sides = np.maximum(*(self.boxes[:, 2:] - self.boxes[:, :2]).T)  # (T,)
            found = detections.xyxy[:, None, :2] + detections.xyxy[:, None, 2:]  # (N, 1, 2): twice each centre
            apart = np.linalg.norm(found - self.boxes[:, :2] - self.boxes[:, 2:], axis=2) / 2  # (N, T)
            near = 1 - apart / np.maximum(sides, 1)  # 1: the same centre, 0: a side apart
            _pair_greedily(near, 1e-6, track_of, taken)
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


def _pair_greedily(score: np.ndarray, least: float, track_of: np.ndarray, taken: np.ndarray) -> None:
    """Pair free detections (rows) with free tracks (columns), best score first, down to least."""
    for flat in np.argsort(-score, axis=None, kind="stable"):
        det, track = np.unravel_index(flat, score.shape)
        if score[det, track] < least:
            break
        if track_of[det] < 0 and not taken[track]:
            track_of[det], taken[track] = track, True


def confirmed(faces: Detections, crops: np.ndarray, tracker: IoUTracker) -> tuple[Detections, np.ndarray]:
    """Only the faces whose track is confirmed, with track keys replaced by public ids."""
    ids = tracker.public_ids(faces.tracker_id)
    faces, crops = faces[ids > 0], crops[ids > 0]
    faces.tracker_id = ids[ids > 0]
    return faces, crops
