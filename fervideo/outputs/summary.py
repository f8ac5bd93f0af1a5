"""Running per-track statistics and the JSON summary of one analysed input, episodes and valence included."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fervideo.core.detections import FACE_FEATURES
from fervideo.core.frames import FrameResult
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.episodes import Episode, segment_starts, time_per_emotion, track_episodes, valence
from fervideo.outputs.face_features import track_features

STATS = (("mean", np.mean), ("min", np.min), ("max", np.max))
MIN_EPISODE = 0.5  # seconds: a shorter stretch of one top emotion joins a neighbour


class Rows:
    """Rows of numbers appended one at a time into one float64 array that doubles as it fills.

    A track keeps a few numbers for each frame it is in; as a list of small arrays that cost about 0.5 KB a frame
    (a 2-hour video grew by over 100 MB), here 8 bytes a number.
    """

    def __init__(self, width: int, rows: np.ndarray | None = None) -> None:
        self._data = np.empty((16, width)) if rows is None else np.asarray(rows, np.float64).reshape(-1, width)
        self._count = 0 if rows is None else len(self._data)

    def append(self, *values: float | np.ndarray) -> None:
        """Add one row: numbers and arrays, flattened in order, width numbers in all."""
        if self._count == len(self._data):
            self._data = np.concatenate([self._data, np.empty((max(16, len(self._data)), self._data.shape[1]))])
        self._data[self._count] = np.hstack(values)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    @property
    def array(self) -> np.ndarray:
        """The rows so far, (N, width); a view, valid until the next append."""
        return self._data[: self._count]


def _series() -> Rows:
    return Rows(2 + len(EMOTIONS))  # frame index, time, the probabilities


def _features() -> Rows:
    return Rows(1 + len(FACE_FEATURES))  # time, the face mesh's numbers


@dataclass
class TrackStats:
    id: int
    first_frame: int
    last_frame: int
    first_time: float
    last_time: float
    frames: int = 0
    seconds: float = 0.0  # time on screen: each analysed frame it is in counts until the next analysed frame
    prob_sum: np.ndarray = field(default_factory=lambda: np.zeros(len(EMOTIONS)))
    top_counts: np.ndarray = field(default_factory=lambda: np.zeros(len(EMOTIONS), np.int64))
    # the analysed frames it is in: frame, time and probabilities, for its episodes and valence
    series: Rows = field(default_factory=_series)
    # time and the face mesh's 9 numbers in each of those frames, when computed (not with --no-face-features)
    features: Rows = field(default_factory=_features)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Its frames (N,) int, times (N,) and probabilities (N, 7)."""
        rows = self.series.array
        return rows[:, 0].astype(np.int64), rows[:, 1].copy(), rows[:, 2:].astype(np.float32)

    def episodes(self, min_seconds: float = MIN_EPISODE) -> list[Episode]:
        """Its stretches of one top emotion."""
        if not self.series:
            return []
        return track_episodes(self.id, *self.arrays(), min_seconds)

    def to_dict(self, extra_seconds: float = 0.0, min_episode: float = MIN_EPISODE) -> dict:
        """Dominant emotion is the one with the highest mean probability over the track."""
        seconds = self.seconds + extra_seconds
        mean = self.prob_sum / max(self.frames, 1)
        values = valence(self.arrays()[2]) if self.series else np.zeros(1)
        episodes = self.episodes(min_episode)
        return {
            "id": self.id,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "first_time_s": round(self.first_time, 4),
            "last_time_s": round(self.last_time, 4),
            "frames": self.frames,
            "seconds": round(seconds, 4),
            "dominant_emotion": EMOTIONS[int(np.argmax(mean))],
            "mean_probs": {name: round(float(p), 6) for name, p in zip(EMOTIONS, mean, strict=True)},
            "top_emotion_frames": {name: int(c) for name, c in zip(EMOTIONS, self.top_counts, strict=True)},
            "valence": {
                k: round(float(f(values)), 6) for k, f in (("mean", np.mean), ("min", np.min), ("max", np.max))
            },
            "episodes": len(episodes),
            "episode_seconds": time_per_emotion(episodes),
            "face_features": self.face_features(seconds),
            "segments": self.segments(),
        }

    def segments(self) -> list[dict]:
        """Its stretches on screen: more than one when it left (or was hidden) and re-identification joined them."""
        if not self.series:
            return []
        frames, times, _ = self.arrays()
        cuts = segment_starts(times)  # the same cuts as the episodes'
        return [
            {
                "first_frame": int(frames[a]),
                "last_frame": int(frames[b - 1]),
                "first_time_s": round(float(times[a]), 4),
                "last_time_s": round(float(times[b - 1]), 4),
            }
            for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(frames)], strict=True)
        ]

    def face_features(self, seconds: float) -> dict | None:
        """Head pose, looking at the camera and blinks over the track; None without the face mesh."""
        if not self.features:
            return None
        rows = self.features.array
        return track_features(rows[:, 0].copy(), rows[:, 1:].astype(np.float32), seconds)


class Summary:
    """Accumulates counts and tracks frame by frame; a face in a frame keeps 9 numbers, for its episodes."""

    def __init__(self, min_episode: float = MIN_EPISODE) -> None:
        self.min_episode = min_episode
        self.frames_seen = self.frames_analysed = self.frames_with_face = self.faces = 0
        self.tracks: dict[int, TrackStats] = {}
        self.previous: tuple[float, list[int]] | None = None  # last analysed frame: time, tracks in it
        self.step = 0.0  # time between the last two analysed frames

    def update(self, result: FrameResult) -> None:
        """Count one frame's result."""
        self.frames_seen += 1
        if not result.analysed:
            return
        faces = result.faces
        if self.previous is not None:
            self.step = result.time_s - self.previous[0]
            for track_id in self.previous[1]:
                self.tracks[track_id].seconds += self.step
        self.previous = (result.time_s, [int(t) for t in faces.tracker_id] if len(faces) else [])
        self.frames_analysed += 1
        self.frames_with_face += len(faces) > 0
        self.faces += len(faces)
        for i in range(len(faces)):
            track_id = int(faces.tracker_id[i])
            stats = self.tracks.get(track_id)
            if stats is None:
                stats = self.tracks[track_id] = TrackStats(
                    track_id, result.index, result.index, result.time_s, result.time_s
                )
            stats.last_frame, stats.last_time = result.index, result.time_s
            stats.frames += 1
            stats.prob_sum += faces.probs[i]
            stats.top_counts[int(np.argmax(faces.probs[i]))] += 1
            stats.series.append(result.index, result.time_s, faces.probs[i])
            if faces.features is not None:
                stats.features.append(result.time_s, faces.features[i])

    def counts(self) -> dict:
        """Frame and face counts."""
        return {
            "frames_read": self.frames_seen,
            "frames_analysed": self.frames_analysed,
            "frames_with_face": self.frames_with_face,
            "faces": self.faces,
            "tracks": len(self.tracks),
            # segments that re-identification joined to an earlier one of the same id
            "joined": sum(max(len(t.segments()) - 1, 0) for t in self.tracks.values()),
        }

    def track_list(self) -> list[dict]:
        """Per-track summaries, by id; the last analysed frame counts as long as the one before it."""
        last = set(self.previous[1]) if self.previous is not None else set()
        return [self.tracks[k].to_dict(self.step if k in last else 0.0, self.min_episode) for k in sorted(self.tracks)]

    def episodes(self) -> list[Episode]:
        """Every track's episodes, by track and time."""
        return [episode for k in sorted(self.tracks) for episode in self.tracks[k].episodes(self.min_episode)]
