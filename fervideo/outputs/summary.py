"""Running per-track statistics and the JSON summary of one analysed input, episodes and valence included."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fervideo.core.frames import FrameResult
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.episodes import Episode, time_per_emotion, track_episodes, valence
from fervideo.outputs.face_features import track_features

STATS = (("mean", np.mean), ("min", np.min), ("max", np.max))
MIN_EPISODE = 0.5  # seconds: a shorter stretch of one top emotion joins a neighbour
# seconds out of view that split a track into segments: the IoU tracker bridges 5 missed analysed frames (0.17 s
# at 30 frames/s) itself, so a longer absence that kept the id was bridged by re-identification (engine/identity.py)
SEGMENT_GAP = 0.5


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
    # the analysed frames it is in: 9 numbers a frame, for its episodes and valence
    series: list[tuple[int, float, np.ndarray]] = field(default_factory=list)
    # the face mesh's 9 numbers in each of those frames, when computed (not with --no-face-features)
    features: list[tuple[float, np.ndarray]] = field(default_factory=list)

    def episodes(self, min_seconds: float = MIN_EPISODE) -> list[Episode]:
        """Its stretches of one top emotion."""
        if not self.series:
            return []
        frames, times, probs = zip(*self.series, strict=True)
        return track_episodes(self.id, np.array(frames), np.array(times), np.stack(probs), min_seconds)

    def to_dict(self, extra_seconds: float = 0.0, min_episode: float = MIN_EPISODE) -> dict:
        """Dominant emotion is the one with the highest mean probability over the track."""
        seconds = self.seconds + extra_seconds
        mean = self.prob_sum / max(self.frames, 1)
        values = valence(np.stack([p for _, _, p in self.series])) if self.series else np.zeros(1)
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
        frames = np.array([f for f, _, _ in self.series])
        times = np.array([t for _, t, _ in self.series])
        gaps = np.diff(times)
        step = float(np.median(gaps)) if len(gaps) else 0.0
        cuts = np.flatnonzero((gaps > SEGMENT_GAP) & (gaps > 1.5 * step)) + 1  # sparse sampling: one step is no gap
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
        times, values = zip(*self.features, strict=True)
        return track_features(np.array(times), np.stack(values), seconds)


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
            stats.series.append((result.index, result.time_s, np.asarray(faces.probs[i], np.float32).copy()))
            if faces.features is not None:
                stats.features.append((result.time_s, faces.features[i].copy()))

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
