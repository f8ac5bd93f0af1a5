"""Temporal smoothing of each track's probabilities, so labels do not flicker from frame to frame."""

from __future__ import annotations

import math

import numpy as np


class EmaSmoother:
    """Exponential moving average per track, with a time constant in seconds of video (or wall) time.

    The weight of a new observation is 1 - exp(-dt / tau), so the result does not depend on how often
    frames are sampled; a track seen for the first time (or again after its id was retired) starts fresh.
    """

    def __init__(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"smoothing time must be 0 or more seconds, not {seconds}")
        self.tau = seconds
        self.state: dict[int, tuple[float, np.ndarray]] = {}  # track id -> (time, smoothed probs)

    def __call__(self, track_ids: np.ndarray, probs: np.ndarray, time_s: float) -> np.ndarray:
        """Smoothed probabilities (N, K) for one frame's tracks; rows still sum to 1."""
        out = np.array(probs, np.float64, copy=True)
        for i, track in enumerate(np.asarray(track_ids).tolist()):
            previous = self.state.get(track)
            if previous is not None and self.tau > 0:
                dt = max(time_s - previous[0], 0.0)
                alpha = 1.0 - math.exp(-dt / self.tau)
                out[i] = previous[1] + alpha * (out[i] - previous[1])
            self.state[track] = (time_s, out[i].copy())
        out /= out.sum(axis=1, keepdims=True).clip(min=1e-12)
        return out.astype(np.float32)

    def forget(self, keep: set[int]) -> None:
        """Drop the state of tracks that are gone, so memory follows the live tracks only."""
        self.state = {k: v for k, v in self.state.items() if k in keep}
