"""Emotion episodes (a state log) and valence: what researchers' tools read, from each track's probabilities.

An episode is a stretch of time in which a face's top emotion stays the same. Stretches shorter than the
minimum are merged into a neighbour, so a one-frame flicker never makes an episode; none spans a time the face
was out of view. Valence is P(happy) minus
the largest of P(sad), P(angry), P(fear), P(disgust), in [-1, 1]; surprise and neutral do not count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from fervideo.core.labels import EMOTIONS

NEGATIVE = [EMOTIONS.index(name) for name in ("sad", "angry", "fear", "disgust")]
HAPPY = EMOTIONS.index("happy")
# seconds out of view that split a track into segments: the IoU tracker bridges 5 missed analysed frames (0.17 s
# at 30 frames/s) itself, so a longer absence that kept the id was bridged by re-identification (engine/identity.py)
SEGMENT_GAP = 0.5
EPISODE_HEADER = [
    "face_id",
    "emotion",
    "start_s",
    "end_s",
    "duration_s",
    "start_frame",
    "end_frame",
    "mean_probability",
    "peak_probability",
    "peak_time_s",
]


def valence(probs: np.ndarray) -> np.ndarray:
    """(N, 7) probabilities -> (N,) valence in [-1, 1]."""
    probs = np.asarray(probs, np.float64).reshape(-1, len(EMOTIONS))
    return probs[:, HAPPY] - probs[:, NEGATIVE].max(axis=1)


@dataclass
class Episode:
    """One face's stretch of one top emotion; end_s is where the next stretch (or the track) begins."""

    face_id: int
    emotion: str
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int  # the last analysed frame of the stretch
    mean_probability: float
    peak_probability: float
    peak_time_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def row(self) -> dict:
        """As a row of CLIP.episodes.csv."""
        values = asdict(self) | {"duration_s": self.duration_s}
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in values.items()}


def segment_starts(times: np.ndarray, gap: float = SEGMENT_GAP) -> np.ndarray:
    """Where a track comes back after an absence: indices after a pause over gap seconds and over 1.5 usual steps."""
    pauses = np.diff(np.asarray(times, np.float64))
    step = float(np.median(pauses)) if len(pauses) else 0.0
    return np.flatnonzero((pauses > gap) & (pauses > 1.5 * step)) + 1  # sparse sampling: one step is no absence


def track_episodes(
    face_id: int, frames: np.ndarray, times: np.ndarray, probs: np.ndarray, min_seconds: float = 0.5
) -> list[Episode]:
    """The episodes of one track from its analysed frames (in time order) and their (N, 7) probabilities.

    No episode spans an absence (a face that re-identification gave its id again): each stretch on screen has
    its own, and the last frame before the face left lasts one step, not the time it was away.
    """
    frames, times, probs = np.asarray(frames), np.asarray(times, np.float64), np.asarray(probs, np.float64)
    if len(times) == 0:
        return []
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    ends = np.append(times[1:], times[-1] + step)  # each frame lasts until the next one of the track
    back = segment_starts(times)
    ends[back - 1] = times[back - 1] + step
    top = probs.argmax(axis=1)
    episodes = []
    for start, stop in zip(np.r_[0, back], np.r_[back, len(top)], strict=True):
        for emotion, a, b in _runs(top, times, ends, start, stop, min_seconds):
            p = probs[a:b, emotion]
            peak = a + int(np.argmax(p))
            episodes.append(
                Episode(
                    face_id,
                    EMOTIONS[emotion],
                    float(times[a]),
                    float(ends[b - 1]),
                    int(frames[a]),
                    int(frames[b - 1]),
                    float(p.mean()),
                    float(p.max()),
                    float(times[peak]),
                )
            )
    return episodes


def _runs(
    top: np.ndarray, times: np.ndarray, ends: np.ndarray, start: int, stop: int, min_seconds: float
) -> list[list[int]]:
    """[emotion, first row, row after the last] of each stretch of one top emotion in rows start to stop."""
    cuts = np.flatnonzero(top[start + 1 : stop] != top[start : stop - 1]) + start + 1
    runs = [[int(top[a]), a, b] for a, b in zip(np.r_[start, cuts], np.r_[cuts, stop], strict=True)]
    while len(runs) > 1:  # the shortest stretch under the minimum joins a neighbour, until none is left
        lengths = [ends[b - 1] - times[a] for _, a, b in runs]
        k = int(np.argmin(lengths))
        if lengths[k] >= min_seconds:
            break
        # into the longer neighbour (the only one at either end)
        into = k + 1 if k == 0 or (k < len(runs) - 1 and lengths[k + 1] > lengths[k - 1]) else k - 1
        first, last = min(k, into), max(k, into)
        runs[first : last + 1] = [[runs[into][0], runs[first][1], runs[last][2]]]
        if first > 0 and runs[first - 1][0] == runs[first][0]:  # same emotion on both sides: one stretch
            runs[first - 1 : first + 1] = [[runs[first][0], runs[first - 1][1], runs[first][2]]]
        elif first + 1 < len(runs) and runs[first + 1][0] == runs[first][0]:
            runs[first : first + 2] = [[runs[first][0], runs[first][1], runs[first + 1][2]]]
    return runs


def time_per_emotion(episodes: list[Episode]) -> dict[str, float]:
    """Seconds of a track's episodes per emotion, every emotion listed."""
    seconds = dict.fromkeys(EMOTIONS, 0.0)
    for episode in episodes:
        seconds[episode.emotion] += episode.duration_s
    return {k: round(v, 3) for k, v in seconds.items()}
