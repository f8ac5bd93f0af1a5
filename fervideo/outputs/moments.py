"""Each track's strongest moment of each emotion, with a small picture of the face at that moment.

During analysis PeakMoments keeps, per track, one JPEG-compressed crop per emotion (7 at most), so memory
follows the number of tracks, never the length of the video. For an existing result the same moments are
found in the CSV and cut from the source video again (moments_from_source).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.frames import FrameResult
from fervideo.core.labels import EMOTIONS
from fervideo.engine.source import VideoSource
from fervideo.outputs.results import ResultTable

THUMB_SIZE = 96  # pixels, square
MARGIN = 1.3  # the crop is this many box sides wide, so the whole face and a little context show


@dataclass
class Moment:
    emotion: str
    prob: float
    frame: int  # source frame index
    time_s: float
    jpeg: bytes | None  # the face, THUMB_SIZE square; None when the source could not be read


def face_thumbnail(image: np.ndarray, xyxy: np.ndarray, size: int = THUMB_SIZE) -> bytes:
    """A square JPEG of the face in box xyxy of a BGR image, grey where the square leaves the picture."""
    height, width = image.shape[:2]
    # clipped to the picture first: a hand-edited box of 1e8 px would otherwise pad the frame out of memory
    x0, x1 = (min(max(float(v), 0.0), width) for v in xyxy[0::2])
    y0, y1 = (min(max(float(v), 0.0), height) for v in xyxy[1::2])
    side = max(x1 - x0, y1 - y0, 1.0) * MARGIN
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = round(cx - side / 2), round(cy - side / 2)
    right, bottom = left + max(round(side), 1), top + max(round(side), 1)
    pad = max(0, -left, -top, right - width, bottom - height)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
    crop = image[top + pad : bottom + pad, left + pad : right + pad]
    crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return encoded.tobytes() if ok else b""


class PeakMoments:
    """Collects, frame by frame, each track's highest probability of each emotion and the face at that frame."""

    def __init__(self) -> None:
        self.best: dict[int, list[Moment | None]] = {}

    def update(self, result: FrameResult) -> None:
        """Look at one released frame; unanalysed frames carry old faces and are skipped."""
        faces = result.faces
        if not result.analysed or result.image is None or not len(faces):
            return
        for i in range(len(faces)):
            slots = self.best.setdefault(int(faces.tracker_id[i]), [None] * len(EMOTIONS))
            thumb = None  # cut once per face, only when some emotion peaks here
            for k, p in enumerate(faces.probs[i].tolist()):
                if slots[k] is None or p > slots[k].prob:
                    thumb = thumb if thumb is not None else face_thumbnail(result.image, faces.xyxy[i])
                    slots[k] = Moment(EMOTIONS[k], p, result.index, result.time_s, thumb)

    def by_track(self) -> dict[int, list[Moment]]:
        """Track id -> its moments in EMOTIONS order."""
        return {track: [m for m in slots if m is not None] for track, slots in sorted(self.best.items())}


def peak_rows(table: ResultTable) -> dict[int, list[int]]:
    """Track id -> the row of its highest probability of each emotion (the first such row on a tie)."""
    peaks = {}
    for track in table.track_ids():
        rows = np.flatnonzero(table.face_id == track)
        peaks[track] = [int(rows[np.argmax(table.probs[rows, k])]) for k in range(len(EMOTIONS))]
    return peaks


def moments_from_source(table: ResultTable, source: Path | None) -> dict[int, list[Moment]]:
    """The moments of a finished result; faces are cut from source, or left without a picture when it is None."""
    peaks = peak_rows(table)
    rows_at: dict[int, set[int]] = {}  # frame index -> rows to cut there
    for rows in peaks.values():
        for row in rows:
            rows_at.setdefault(int(table.frame[row]), set()).add(row)
    thumbs: dict[int, bytes] = {}  # row -> picture
    if source is not None and rows_at:
        last = max(rows_at)
        with VideoSource(source) as video:
            for frame in video.frames():
                for row in rows_at.get(frame.index, ()):
                    thumbs[row] = face_thumbnail(frame.image, table.xyxy[row])
                if frame.index >= last:
                    break
    return {
        track: [
            Moment(
                EMOTIONS[k],
                float(table.probs[row, k]),
                int(table.frame[row]),
                float(table.time_s[row]),
                thumbs.get(row),
            )
            for k, row in enumerate(rows)
        ]
        for track, rows in peaks.items()
    }
