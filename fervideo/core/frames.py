"""The leaf types a frame travels in: source to engine (Frame), engine to sinks (FrameResult)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fervideo.core.detections import Detections


@dataclass
class Frame:
    """One decoded (or only grabbed) frame of a source."""

    index: int  # source frame index
    time_s: float  # presentation time
    image: np.ndarray | None  # (H, W, 3) uint8 BGR; None when only grabbed, not decoded
    sampled: bool  # chosen for analysis


@dataclass
class FrameResult:
    """What the engine found in one frame, as every sink receives it."""

    index: int  # source frame index
    time_s: float
    image: np.ndarray | None  # BGR frame, when decoded
    analysed: bool  # False: not sampled; faces are carried forward from the last analysed frame
    faces: Detections  # with tracker_id and probs
