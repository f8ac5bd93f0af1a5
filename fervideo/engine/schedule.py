"""Where the work goes (the default, adaptive mode): the detector searches a frame only when faces may have come or
gone, and a face is classified and meshed again only when its picture has changed since it last was.

`--every-frame` (AnalyzeOptions.every_frame) turns both off: every sampled frame searched, every face analysed.
The thresholds were chosen on the shared clips and the sample against that exhaustive mode
(`python benchmarks/adaptive.py`, docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fervideo.core.detections import Detections, box_iou
from fervideo.engine.source import Sampling, VideoInfo

# Searches in a row that must find the same number of faces before the detector starts skipping frames: the
# tracker confirms a face on its second sighting, and that sighting must come from the detector, not from a carry.
STEADY_SEARCHES = 3
# ... and each of whose boxes overlaps one of the search before by this much: a face that moves (a pan, a turn)
# is searched for in every frame, as the tracker matches boxes of successive searches.
STILL_IOU = 0.6
# Then one sampled frame in SEARCH_EVERY is searched: a face that enters beside one already tracked waits at most
# this many frames, and a face that leaves is let go by the next search.
SEARCH_EVERY = 3
# A face is analysed again when one 8x8-pixel block of its 48x48 grey crop has changed its mean by this many grey
# levels since its last analysis (brightness drift of the whole crop removed first). A blink moves the eye blocks
# by more; compression noise on a still face moves none this far.
CHANGE_LEVEL = 6.0
BLOCK = 8
# ... and at least this often whatever the picture does, so a slow drift cannot freeze a face's readings.
MAX_CARRY_S = 0.5


class SearchSchedule:
    """Which sampled frames the detector searches: all while faces come, go or move, one in SEARCH_EVERY once still."""

    def __init__(self, every_frame: bool = False) -> None:
        self.every_frame = every_frame
        self._boxes: list[np.ndarray] = []  # (N, 4) faces found by the recent searches, newest last
        self._since = 0  # sampled frames since the last search
        self.searched = self.skipped = 0

    def due(self) -> bool:
        """Whether the next sampled frame is searched; call once per sampled frame."""
        search = self.every_frame or not self._still() or self._since + 1 >= SEARCH_EVERY
        self._since = 0 if search else self._since + 1
        self.searched += search
        self.skipped += not search
        return search

    def found(self, xyxy: np.ndarray) -> None:
        """Tell the schedule the boxes (N, 4) that the search it asked for found."""
        self._boxes = [*self._boxes[-(STEADY_SEARCHES - 1) :], xyxy]

    def _still(self) -> bool:
        """The last STEADY_SEARCHES searches found the same faces, none of which moved far between two."""
        if len(self._boxes) < STEADY_SEARCHES or not all(len(boxes) for boxes in self._boxes):
            return False
        pairs = zip(self._boxes[:-1], self._boxes[1:], strict=False)
        return all(len(a) == len(b) and box_iou(a, b).max(axis=0).min() >= STILL_IOU for a, b in pairs)


@dataclass
class _Reading:
    blocks: np.ndarray  # (B, B) block means of the crop at the last analysis, brightness removed
    time_s: float
    probs: np.ndarray | None = None  # (7,), set by fill()
    features: np.ndarray | None = None  # (9,)
    landmarks: np.ndarray | None = None  # (468, 2)
    centre: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))  # the box's, to move landmarks


class ChangeGate:
    """Each face's last analysis, and whether its crop has changed enough since to analyse it again.

    A batch of frames goes through in two passes, both in time order: decide() before the models run (it needs
    only the crops), fill() after (it needs what they read).
    """

    def __init__(self, every_frame: bool = False) -> None:
        self.every_frame = every_frame
        self._last: dict[int, _Reading] = {}  # public id -> reading
        self.analysed = 0
        self.carried = 0

    def decide(self, ids: np.ndarray, crops: np.ndarray, time_s: float) -> np.ndarray:
        """(N,) bool: which faces (public ids, (N, 48, 48) grey crops) of a frame to classify and mesh."""
        due = np.ones(len(ids), bool)
        blocks = block_means(crops)  # (N, B, B)
        for i, face in enumerate(ids.tolist()):
            last = self._last.get(face)
            if not self.every_frame and last is not None and time_s - last.time_s < MAX_CARRY_S:
                due[i] = np.abs(blocks[i] - last.blocks).max() >= CHANGE_LEVEL
            if due[i] and last is None:
                self._last[face] = _Reading(blocks[i], time_s)
            elif due[i]:  # the values stay until fill() reaches this frame: frames before it still carry them
                last.blocks, last.time_s = blocks[i], time_s
        self.analysed += int(due.sum())
        self.carried += int(len(due) - due.sum())
        return due

    def fill(self, faces: Detections, due: np.ndarray) -> None:
        """Keep what the due faces read; give the others their last reading (landmarks moved with the box)."""
        centres = _centres(faces.xyxy)
        for i, face in enumerate(faces.tracker_id.tolist()):
            last = self._last[face]
            if due[i]:
                last.probs, last.centre = faces.probs[i].copy(), centres[i]
                last.features = None if faces.features is None else faces.features[i].copy()
                last.landmarks = None if faces.landmarks is None else faces.landmarks[i].copy()
                continue
            faces.probs[i] = last.probs
            if faces.features is not None and last.features is not None:
                faces.features[i] = last.features
            if faces.landmarks is not None and last.landmarks is not None:
                faces.landmarks[i] = last.landmarks + (centres[i] - last.centre)

    def forget(self, live: set[int]) -> None:
        """Drop the readings of faces no longer tracked."""
        for face in set(self._last) - live:
            del self._last[face]


def block_means(crops: np.ndarray) -> np.ndarray:
    """(N, S, S) grey crops -> (N, S/BLOCK, S/BLOCK) block means minus each crop's mean."""
    n, size = len(crops), crops.shape[-1] // BLOCK * BLOCK
    cut = crops[:, :size, :size].astype(np.float32).reshape(n, size // BLOCK, BLOCK, size // BLOCK, BLOCK)
    blocks = cut.mean(axis=(2, 4))
    return blocks - blocks.mean(axis=(1, 2), keepdims=True)


def _centres(xyxy: np.ndarray) -> np.ndarray:
    return ((xyxy[:, :2] + xyxy[:, 2:]) / 2).astype(np.float32)


# Above this gap between analysed frames a face may well have moved or gone by the next one: waiting for a
# second sighting would drop real faces (--fps 0.4 on a short clip found none) rather than flickers.
CONFIRM_GAP_S = 0.5
# ... and above this one a carried box or reading would stand for too long: sparse sampling (--every 3 of 30
# frames/s, --fps under 10) is already cheap, and runs as --every-frame does
ADAPTIVE_GAP_S = 0.07


def analysed_gap(info: VideoInfo, sampling: Sampling) -> float:
    """Video seconds between two analysed frames (0 when the frame rate is unknown)."""
    return 1.0 / sampling.fps if sampling.fps is not None else sampling.every / info.fps if info.fps > 0 else 0.0


def confirmable(info: VideoInfo, sampling: Sampling) -> bool:
    """Whether new faces can wait for a second analysed frame: not in a photo, a 1-frame video, or sparse sampling."""
    if info.is_image or info.frames == 1:
        return False
    return analysed_gap(info, sampling) <= CONFIRM_GAP_S


def adaptive(info: VideoInfo, sampling: Sampling) -> bool:
    """Whether skipping searches and readings suits this source: a video analysed at about 15 frames/s or more."""
    return not info.is_image and analysed_gap(info, sampling) <= ADAPTIVE_GAP_S
