"""Face detection: mediapipe's two BlazeFace models, scheduled and merged into one kind of box."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from fervideo.core.detections import Detections, box_iou
from fervideo.core.errors import ModelError
from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace

# mediapipe's two BlazeFace models frame a face differently. Short-range boxes are mapped onto
# the full-range geometry (measured on FER2013 faces by training/calibrate_crop.py) so later
# stages see one kind of box whichever model found the face.
SHORT_TO_FULL_SCALE = 1.076  # median over 494 FER2013 val faces found by both models
SHORT_TO_FULL_SHIFT = (0.0, -0.062)  # centre shift, in units of the short-range box side

STRATEGIES = ("auto", "short", "full")
# A tight face crop, a common kind of photo, leaves BlazeFace no margin to see a face in; a plain grey border
# of this share of the longer side on every side gives it one. Only photos are retried so, never video frames.
PHOTO_BORDER = 0.25
TILE_MIN = 480  # px: the smallest tile a large photo is searched in (see FaceDetector._tiles)


@dataclass(frozen=True)
class DetectorConfig:
    strategy: str = "auto"  # auto: both models, merged; short: close-ups only; full: up to ~5 m
    # auto runs the full-range model (6 ms a frame here, the short-range one 2.3 ms) on every N-th frame, and
    # on every frame where a face it found last time has no short-range face over it
    full_every: int = 5
    min_score: float = 0.65  # 0.6 lets background false positives through on no_face.mp4
    min_size: int = 12  # px; smaller boxes hold too little face to classify
    nms_iou: float = 0.3


class FaceDetector:
    """Finds faces in BGR frames (OpenCV's order) and returns them as Detections in source pixels."""

    def __init__(self, config: DetectorConfig = DetectorConfig()) -> None:
        if config.strategy not in STRATEGIES:
            raise ModelError(f"unknown detector strategy {config.strategy!r}; use one of {STRATEGIES}")
        if config.full_every < 1:
            raise ModelError(f"full-range model every {config.full_every} frames: use 1 or more")
        self.config = config
        selections = {"auto": (1, 0), "short": (0,), "full": (1,)}[config.strategy]
        self._models = _load(selections)
        # ONNX Runtime releases the GIL, so a second thread runs a second model (or frame) on the other core; its
        # sessions may run from two threads at once, so pair() needs no second copy of a model (0.1 s to load both)
        self._beside = ThreadPoolExecutor(1, thread_name_prefix="fervideo-detect")
        self.reset()

    def reset(self) -> None:
        """Forget the frames seen so far: the next frame runs every model (call before a new video)."""
        self._frames = 0
        self._full = Detections.empty()  # what the full-range model found the last time it ran

    def __call__(self, bgr: np.ndarray) -> Detections:
        """Detect faces in one (H, W, 3) uint8 BGR frame of a sequence (see reset)."""
        if len(self._models) == 1:
            return _merge([self._kept(self._run(self._models, bgr))], self.config.nms_iou)  # by confidence
        due, self._frames = self._frames % self.config.full_every == 0, self._frames + 1
        full = None
        if due:
            pending = self._beside.submit(self._run, self._models, bgr, 0)
            full = self._kept(self._run(self._models, bgr, 1))
            short = self._kept(pending.result())
        else:
            short = self._kept(self._run(self._models, bgr, 0))
        return self._combined(bgr, short, full)

    def pair(self, first: np.ndarray, second: np.ndarray) -> tuple[Detections, Detections]:
        """Faces in two consecutive BGR frames of a sequence, found on two cores; the same as two calls."""
        if len(self._models) == 1:
            pending = self._beside.submit(self._run, self._models, second)
            firsts = self._kept(self._run(self._models, first))
            return _merge([firsts], self.config.nms_iou), _merge([self._kept(pending.result())], self.config.nms_iou)
        frames = (first, second)
        due = [(self._frames + i) % self.config.full_every == 0 for i in range(2)]
        self._frames += 2
        fulls: list[Detections | None] = [None, None]
        if any(due):  # beside: both short-range passes (3.2 ms here); this thread: the full-range one (3.8 ms)
            pending = self._beside.submit(lambda: [self._run(self._models, bgr, 0) for bgr in frames])
            fulls = [
                self._kept(self._run(self._models, bgr, 1)) if d else None for bgr, d in zip(frames, due, strict=True)
            ]
            shorts = pending.result()
        else:
            pending = self._beside.submit(self._run, self._models, second, 0)
            shorts = [self._run(self._models, first, 0), pending.result()]
        # in frame order: whether the first frame runs the full-range model again decides what the second sees
        firsts = self._combined(first, self._kept(shorts[0]), fulls[0])
        return firsts, self._combined(second, self._kept(shorts[1]), fulls[1])

    def _combined(self, bgr: np.ndarray, short: Detections, full: Detections | None) -> Detections:
        """A frame's faces from both models; the full-range one runs now too if a face it found lacks cover."""
        if full is None and self._uncovered(short):  # a face only the full-range model sees: keep it in every frame
            full = self._kept(self._run(self._models, bgr, 1))
        if full is None:
            return short
        self._full = full
        return _merge([full, short], self.config.nms_iou)

    def photo(self, bgr: np.ndarray) -> Detections:
        """Faces in one still (H, W, 3) BGR photo, large ones searched in tiles too; else again inside a border."""
        self.reset()
        found = _merge([self(bgr), *self._tiles(bgr)], self.config.nms_iou)
        if len(found):
            return found
        height, width = bgr.shape[:2]
        pad = max(1, round(PHOTO_BORDER * max(height, width)))
        framed = np.pad(bgr, ((pad, pad), (pad, pad), (0, 0)), constant_values=128)
        self.reset()
        found = self(framed)
        found.xyxy[:] -= pad  # back to the photo's pixels, clipped to it as every detection is
        found.xyxy[:, 0::2] = np.clip(found.xyxy[:, 0::2], 0, width)
        found.xyxy[:, 1::2] = np.clip(found.xyxy[:, 1::2], 0, height)
        wh = found.xyxy[:, 2:] - found.xyxy[:, :2]
        return found[wh.min(axis=1) >= self.config.min_size]

    def _tiles(self, bgr: np.ndarray) -> list[Detections]:
        """Faces found in overlapping square tiles of a large photo, in its pixels.

        BlazeFace sees the picture at 128 or 192 px: in a wide group photo each face shrinks below what it
        finds. Tiles of the shorter side, then of half that, down to TILE_MIN px, overlapping by half, give
        every face a tile it fills enough; a face cut by a tile's inner edge is left to a neighbouring tile.
        """
        height, width = bgr.shape[:2]
        found = []
        side = min(height, width) if max(height, width) >= 1.5 * min(height, width) else min(height, width) // 2
        while side >= TILE_MIN:
            step = side // 2
            for y in range(0, max(height - side, 0) + 1, step):
                for x in range(0, max(width - side, 0) + 1, step):
                    self.reset()
                    faces = self(np.ascontiguousarray(bgr[y : y + side, x : x + side]))
                    x0, y0, x1, y1 = faces.xyxy.T
                    inner = (  # touching an edge of the tile that is not an edge of the photo
                        ((x0 <= 1) & (x > 0))
                        | ((y0 <= 1) & (y > 0))
                        | ((x1 >= side - 1) & (x + side < width))
                        | ((y1 >= side - 1) & (y + side < height))
                    )
                    faces = faces[~inner]
                    faces.xyxy[:] += np.array([x, y, x, y], np.float32)
                    found.append(faces)
            side //= 2
        return found

    def _uncovered(self, short: Detections) -> bool:
        """Whether a face of the last full-range run has no short-range face over it now."""
        if not len(self._full):
            return False
        if not len(short):
            return True
        return bool((box_iou(self._full.xyxy, short.xyxy).max(axis=1) <= self.config.nms_iou).any())

    def _kept(self, found: Detections) -> Detections:
        wh = found.xyxy[:, 2:] - found.xyxy[:, :2]
        return found[(found.confidence >= self.config.min_score) & (wh.min(axis=1) >= self.config.min_size)]

    def _run(self, models: dict[int, BlazeFace], bgr: np.ndarray, selection: int | None = None) -> Detections:
        selection = next(iter(models)) if selection is None else selection
        height, width = bgr.shape[:2]
        found = models[selection](bgr, bgr=True)
        xyxy = found.xyxy
        if selection == 0:
            xyxy = _short_to_full(xyxy)
        eyes = found.keypoints[:, 1] - found.keypoints[:, 0]  # the person's right eye to their left one
        dets = Detections(xyxy, found.score, roll=np.arctan2(eyes[:, 1], eyes[:, 0]).astype(np.float32))
        dets.xyxy[:, 0::2] = np.clip(dets.xyxy[:, 0::2], 0, width)
        dets.xyxy[:, 1::2] = np.clip(dets.xyxy[:, 1::2], 0, height)
        return dets

    def close(self) -> None:
        """Stop the second thread (the models go with the detector)."""
        self._beside.shutdown()

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _load(selections: tuple[int, ...]) -> dict[int, BlazeFace]:
    """One model for each selection, keyed by mediapipe's numbering (0 short-range, 1 full-range)."""
    return {sel: BlazeFace((SHORT_RANGE, FULL_RANGE)[sel]) for sel in selections}


def _short_to_full(xyxy: np.ndarray) -> np.ndarray:
    """Short-range boxes (N, 4) moved and scaled onto the full-range model's framing."""
    side = xyxy[:, 2:] - xyxy[:, :2]
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2 + np.array(SHORT_TO_FULL_SHIFT, np.float32) * side
    half = side * (SHORT_TO_FULL_SCALE / 2)
    return np.concatenate([centre - half, centre + half], axis=1)


def _merge(found: list[Detections], iou: float) -> Detections:
    """Union of each model's faces; where two overlap the earlier (full-range) one wins.

    The crop was calibrated on full-range boxes; mapped short-range boxes differ from them by about 2% of the
    face's side (median on the ../shared clips), so a box barely moves on the frames where both models run."""
    kept = found[0]
    for other in found[1:]:
        if len(kept) and len(other):
            overlaps = box_iou(other.xyxy, kept.xyxy).max(axis=1) > iou
            other = other[~overlaps]
        kept = Detections(
            np.concatenate([kept.xyxy, other.xyxy]),
            np.concatenate([kept.confidence, other.confidence]),
            roll=np.concatenate([kept.roll, other.roll]) if kept.roll is not None and other.roll is not None else None,
        )
    order = np.argsort(-kept.confidence, kind="stable")
    return kept[order]
