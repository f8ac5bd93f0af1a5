"""Where the work goes (the default, adaptive mode): the detector searches a frame only when faces may have come or
gone, and a face is classified and meshed again only when its picture has changed since it last was.

`--every-frame` (AnalyzeOptions.every_frame) turns both off: every sampled frame searched, every face analysed.
The thresholds were chosen on the shared clips and the sample against that exhaustive mode
(`python benchmarks/adaptive.py`, docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from fervideo.core.detections import Detections, box_iou
from fervideo.engine.source import Sampling, VideoInfo

# Searches in a row that must find the same number of faces before the detector starts skipping frames: the
# tracker confirms a face on its second sighting, and that sighting must come from the detector, not from a carry.
STEADY_SEARCHES = 3
# ... and each of whose boxes overlaps one of the search before by this much: a face that moves (a pan, a turn)
# is searched for in every frame, as the tracker matches boxes of successive searches.
STILL_IOU = 0.6
# Then a sampled frame is searched when the picture has changed since the last search (SCENE_LEVEL) and at least
# one in SEARCH_EVERY whatever it does: a face that enters where nothing else moves waits at most this many frames.
SEARCH_EVERY = 10
# ... and at least once in this many seconds: live mode, which drops the frames it cannot keep up with, may analyse
# five a second on a slow machine, where ten frames would keep a newcomer waiting two seconds.
SEARCH_GAP_S = 0.4
# The picture has changed when one cell of a THUMB_CELLS x THUMB_CELLS grey thumbnail of a face's box moved its mean
# by this many grey levels (brightness drift of the box removed first): a face leaving, turning away or moving
# does; a still face talking or blinking moves its cells less.
SCENE_LEVEL = 20.0
THUMB_CELLS = 8
# A face is analysed again when one 8x8-pixel block of its 48x48 grey crop has changed its mean by this many grey
# levels since its last analysis (brightness drift of the whole crop removed first): compression noise on a still
# face moves none this far.
CHANGE_LEVEL = 6.0
BLOCK = 8
# ... and at least this often whatever the picture does, so a slow drift cannot freeze a face's readings.
MAX_CARRY_S = 0.5
# The eyes are read again (the mesh and the iris model) when a 4x4 block of the crop's band of eyes and brows
# (FER2013's framing puts the eyes at 0.35-0.45 of its height) moved by this much since they last were: an eyelid
# is too small a part of an 8x8 block to move its mean by CHANGE_LEVEL, and 8x8 blocks missed a hand-counted
# blink. A face read for any other change keeps its last reading of the eyes, where the new mesh puts them.
EYE_BLOCK = 4
EYE_LEVEL = 12.0


class SearchSchedule:
    """Which sampled frames the detector searches: all while faces come, go or move; once still, those where a face's
    box looks different, and one in SEARCH_EVERY (or SEARCH_GAP_S, when given times) anyway."""

    def __init__(self, every_frame: bool = False) -> None:
        self.every_frame = every_frame
        self._boxes: list[np.ndarray] = []  # (N, 4) faces found by the recent searches, newest last
        self._since = 0  # sampled frames since the last search
        self._searched_at = -np.inf  # and the time of that search, in seconds
        self._thumb: np.ndarray | None = None  # the faces of the last search as it saw them, thumbnails()
        self._steady = False  # _still() of the searches so far: they change only with found()
        self.searched = self.skipped = 0

    def due(self, image: np.ndarray | None = None, time_s: float | None = None) -> bool:
        """Whether the next sampled frame (BGR, at time_s when known) is searched; call once per sampled frame."""
        search = self.every_frame or not self._steady or self._since + 1 >= SEARCH_EVERY
        if not search and time_s is not None:
            search = time_s - self._searched_at >= SEARCH_GAP_S
        if not search and image is not None and self._thumb is not None:
            search = bool(np.abs(thumbnails(image, self._boxes[-1]) - self._thumb).max() >= SCENE_LEVEL)
        self._since = 0 if search else self._since + 1
        if search and time_s is not None:
            self._searched_at = time_s
        self.searched += search
        self.skipped += not search
        return search

    def found(self, xyxy: np.ndarray, image: np.ndarray | None = None) -> None:
        """Tell the schedule the boxes (N, 4) that the search it asked for found in the frame (BGR)."""
        self._boxes = [*self._boxes[-(STEADY_SEARCHES - 1) :], xyxy]
        self._steady = self._still()
        self._thumb = None if image is None or self.every_frame else thumbnails(image, xyxy)

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
    eye_blocks: np.ndarray | None = None  # eye_band() at the last reading of the eyes
    eye_time: float = 0.0
    eye_reading: np.ndarray | None = None  # (2, 76, 3) the iris model's, landmarks.Marks.eye_reading


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
        self.eyes_read = 0

    def decide(
        self, ids: np.ndarray, crops: np.ndarray, time_s: float, level: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which faces (public ids, (N, S, S) grey crops; level: the same turned eyes level) of a frame to classify
        and mesh, and which of those to read the eyes of: two (N,) bool."""
        blocks, band = block_means(crops), eye_band(crops if level is None else level)  # (N, B, B), (N, b, b')
        due, eyes = np.ones(len(ids), bool), np.ones(len(ids), bool)
        for i, face in enumerate(ids.tolist()):
            last = self._last.get(face)
            if not self.every_frame and last is not None:
                if time_s - last.time_s < MAX_CARRY_S:
                    due[i] = np.abs(blocks[i] - last.blocks).max() >= CHANGE_LEVEL
                if time_s - last.eye_time < MAX_CARRY_S:
                    eyes[i] = np.abs(band[i] - last.eye_blocks).max() >= EYE_LEVEL
                due[i] |= eyes[i]
            if last is None:
                last = self._last[face] = _Reading(blocks[i], time_s)
            elif due[i]:  # the values stay until fill() reaches this frame: frames before it still carry them
                last.blocks, last.time_s = blocks[i], time_s
            if eyes[i]:
                last.eye_blocks, last.eye_time = band[i], time_s
        self.analysed += int(due.sum())
        self.carried += int(len(due) - due.sum())
        self.eyes_read += int(eyes.sum())
        return due, eyes

    def eye_readings(self, ids: np.ndarray, reading: np.ndarray, read: np.ndarray) -> np.ndarray:
        """Iris readings (F, 2, 76, 3) of a frame's meshed faces, those not read anew (read (F,) False) given their
        face's last. Call in time order, once decide() has seen the frame."""
        out = reading.copy()
        for i, face in enumerate(ids.tolist()):
            last = self._last[face]
            if read[i]:
                last.eye_reading = reading[i]
            elif last.eye_reading is not None:
                out[i] = last.eye_reading
        return out

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


def thumbnails(image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """(N, C, C) grey thumbnails of the boxes (N, 4) in a BGR frame, each minus its mean."""
    height, width = image.shape[:2]
    out = np.zeros((len(xyxy), THUMB_CELLS, THUMB_CELLS), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(np.asarray(xyxy).round().astype(int).tolist()):
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 - x0 < THUMB_CELLS or y1 - y0 < THUMB_CELLS:
            continue
        step = max(1, (y1 - y0) // (8 * THUMB_CELLS))  # 8x8 samples a cell are enough, and 7x quicker than all
        region = np.ascontiguousarray(image[y0:y1:step, x0:x1:step])
        patch = cv2.resize(region, (THUMB_CELLS, THUMB_CELLS), interpolation=cv2.INTER_AREA)
        out[i] = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
        out[i] -= out[i].mean()
    return out


def block_means(crops: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """(N, H, W) grey crops -> (N, H/block, W/block) block means minus each crop's mean."""
    n, rows, cols = len(crops), crops.shape[1] // block, crops.shape[2] // block
    cut = crops[:, : rows * block, : cols * block].astype(np.float32).reshape(n, rows, block, cols, block)
    blocks = cut.mean(axis=(2, 4))
    return blocks - blocks.mean(axis=(1, 2), keepdims=True)


def eye_band(crops: np.ndarray) -> np.ndarray:
    """(N, S, S) grey crops -> EYE_BLOCK block means of their band of eyes and brows, minus its mean."""
    size = crops.shape[-1]
    return block_means(crops[:, size // 6 : size // 2], EYE_BLOCK)


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


def releasable(analysed: list[bool], holdback: int) -> int:
    """How many leading frames of those held back may be released: all up to the last `holdback` analysed ones."""
    marks = [i for i, flag in enumerate(analysed) if flag]
    return len(analysed) if holdback == 0 else (marks[-holdback] if len(marks) >= holdback else 0)
