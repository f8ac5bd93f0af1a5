"""Per-track statistics of the face mesh's features for the JSON summary: head pose, gaze at the camera, blinks."""

from __future__ import annotations

import numpy as np

from fervideo.core.detections import FACE_FEATURES
from fervideo.outputs.episodes import segment_starts

BLINK_DEPTH = 0.5  # a blink: both eyes' mean openness under this share of the track's median openness ...
BLINK_MAX_S = 0.5  # ... and back over it within this many seconds (longer: eyes closed, not a blink)
COLUMN = {name: i for i, name in enumerate(FACE_FEATURES)}


def blink_times(times: np.ndarray, openness: np.ndarray) -> list[float]:
    """When each blink starts: openness (T,) at times (T,) dips under the track's threshold and recovers in time."""
    return [start for start, _ in blink_spans(times, openness)]


def blink_spans(times: np.ndarray, openness: np.ndarray) -> list[tuple[float, float]]:
    """Each blink as (start, end): from the first frame under the threshold to the first one back over it."""
    threshold = BLINK_DEPTH * float(np.median(openness)) if len(openness) else 0.0
    below = openness < threshold
    spans, start = [], None
    for t, low in zip(times, below, strict=True):
        if low and start is None:
            start = t
        elif not low and start is not None:
            if t - start <= BLINK_MAX_S:
                spans.append((float(start), float(t)))
            start = None
    return spans  # a dip still open at the track's end has not recovered: not counted


def true_spans(times: np.ndarray, flags: np.ndarray, gap: float) -> list[tuple[float, float]]:
    """The stretches (start, end) where flags (T,) at times (T,) hold: each true frame lasts until the next
    frame, or one typical step where the next is more than gap seconds and 1.5 steps away (out of view)."""
    times, flags = np.asarray(times, np.float64), np.asarray(flags, bool)
    if not len(times):
        return []
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    ends = np.r_[times[1:], times[-1] + step]
    back = segment_starts(times, gap)  # the summary's segments: under sparse sampling one step is no absence
    ends[back - 1] = times[back - 1] + step
    spans: list[tuple[float, float]] = []
    for t, end, on in zip(times, ends, flags, strict=True):
        if not on:
            continue
        if spans and abs(spans[-1][1] - t) < 1e-9:  # continues the stretch before it
            spans[-1] = (spans[-1][0], float(end))
        else:
            spans.append((float(t), float(end)))
    return spans


def track_features(times: np.ndarray, features: np.ndarray, seconds: float) -> dict | None:
    """The JSON summary's face_features of one track: its frames' times (T,) and FACE_FEATURES (T, 9)."""
    known = ~np.isnan(features).any(axis=1)
    if not known.any():
        return None
    times, features = times[known], features[known]
    return {
        "frames": int(known.sum()),
        "head_pose_deg": {name: _spread(features[:, COLUMN[name]]) for name in ("yaw", "pitch", "roll")},
        "looking_at_camera_share": round(float(features[:, COLUMN["looking_at_camera"]].mean()), 4),
        **_blinks(times, features, seconds),
    }


def _blinks(times: np.ndarray, features: np.ndarray, seconds: float) -> dict:
    """blinks, blinks_per_minute and blink_times_s; all None where frames too sparse (or one) could show none."""
    if len(times) < 2 or np.median(np.diff(times)) > BLINK_MAX_S:  # a dip could never recover in time: not 0
        return {"blinks": None, "blinks_per_minute": None, "blink_times_s": None}
    blinks = blink_times(times, features[:, [COLUMN["eye_open_left"], COLUMN["eye_open_right"]]].mean(axis=1))
    return {
        "blinks": len(blinks),
        "blinks_per_minute": round(60 * len(blinks) / seconds, 2) if seconds > 0 else None,
        "blink_times_s": [round(t, 3) for t in blinks],
    }


def face_events(times: np.ndarray, features: np.ndarray, gap: float) -> dict[str, list[tuple[float, float]]]:
    """One track's blinks and its stretches of looking at the camera as (start, end) seconds, for ELAN's tiers:
    its frames' times (T,) and FACE_FEATURES (T, 9); gap: seconds unseen after which a stretch ends."""
    known = ~np.isnan(features).any(axis=1)
    openness = features[known][:, [COLUMN["eye_open_left"], COLUMN["eye_open_right"]]].mean(axis=1)
    looking = np.nan_to_num(features[:, COLUMN["looking_at_camera"]]) > 0.5  # no mesh: not known to look
    return {"blink": blink_spans(times[known], openness), "looking at camera": true_spans(times, looking, gap)}


def _spread(values: np.ndarray) -> dict:
    """Mean and standard deviation of one angle; sd None for one frame, which shows no spread (a photo)."""
    return {"mean": _round(values.mean()), "sd": _round(values.std()) if len(values) > 1 else None}


def _round(value: float) -> float:
    return round(float(value), 2)
