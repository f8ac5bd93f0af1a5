"""The library's one-call entries: analyze_video, every frame of a video or photo as the engine reads it, and
analyze_image, one picture in and its faces out, for photos and for frames a program already holds.

analyze_image has no tracker and no smoothing: a picture is searched as `fervideo eval --photos` searches a photo
(FaceDetector.photo: large pictures in tiles too, tight crops again inside a border), each face cropped and
classified as in a video.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fervideo.core.errors import InputError, UsageError
from fervideo.core.frames import FrameResult
from fervideo.core.labels import EMOTIONS
from fervideo.engine.crop import crop_faces
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.engine.source import VideoSource
from fervideo.outputs.episodes import valence


@dataclass(frozen=True)
class Face:
    """One face of a picture: where it is, how sure the detector is, and the emotions on it."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the picture's pixels
    confidence: float  # the face detector's score, 0 to 1
    probs: dict[str, float]  # each of EMOTIONS, in that order, summing to 1
    emotion: str  # the most probable one
    valence: float  # P(happy) minus the largest of P(sad), P(angry), P(fear), P(disgust): -1 to 1


def analyze_image(
    image: str | Path | np.ndarray,
    options: AnalyzeOptions | None = None,
    analyzer: Analyzer | None = None,
    **overrides: object,
) -> list[Face]:
    """The faces of one picture (a photo's path, or a BGR uint8 array as OpenCV gives), most confident first.

    Keyword arguments override AnalyzeOptions (model, precision, tta, align, ...). Each call loads the models
    unless an open Analyzer is passed, which many pictures can share: `with fervideo.Analyzer() as a:`.
    """
    if analyzer is not None and (options is not None or overrides):
        raise UsageError("analyze_image: an Analyzer brings its own options; give them to the Analyzer instead")
    if analyzer is not None and (not isinstance(analyzer, Analyzer) or analyzer.closed):
        raise UsageError(f"analyze_image: analyzer must be an open fervideo Analyzer, not {analyzer!r}")
    options = AnalyzeOptions.overridden(options, overrides)
    bgr = _picture(image)
    if analyzer is None:
        with Analyzer(options) as own:
            return _faces(own, bgr)
    return _faces(analyzer, bgr)


def _faces(analyzer: Analyzer, bgr: np.ndarray) -> list[Face]:
    """Detect, crop and classify with the analyzer's models and options."""
    found = analyzer.detector.photo(bgr)
    roll = found.roll if analyzer.options.align else None
    crops = crop_faces(bgr, found.xyxy, analyzer.classifier.spec.face_size, roll)
    probs = analyzer.classifier.predict(crops, analyzer.options.batch_size, tta=analyzer.options.tta)
    valences = valence(probs)
    return [
        Face(
            box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
            confidence=float(score),
            probs={name: float(p) for name, p in zip(EMOTIONS, row, strict=True)},
            emotion=EMOTIONS[int(np.argmax(row))],
            valence=float(v),
        )
        for box, score, row, v in zip(found.xyxy, found.confidence, probs, valences, strict=True)
    ]


def _picture(image: str | Path | np.ndarray) -> np.ndarray:
    """A contiguous (H, W, 3) uint8 BGR picture from a photo's path, or from an array: grey and BGRA allowed."""
    if isinstance(image, str | Path):
        with VideoSource(image) as source:  # the CLI's reader: its size limit and one-line errors
            if not source.info.is_image:
                raise InputError(f"{image}: not a photo; fervideo.analyze_video reads videos")
            return next(source.frames()).image
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise InputError(f"a picture must be uint8 (0-255), as OpenCV reads it, not {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]  # BGRA: the alpha channel says nothing about a face
    if array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape:
        raise InputError(f"a picture must be (height, width, 3) BGR, (height, width) grey or BGRA, not {array.shape}")
    return np.ascontiguousarray(array)


def analyze_video(
    path: str | Path, options: AnalyzeOptions | None = None, **overrides: object
) -> Iterator[FrameResult]:
    """A FrameResult for every frame of a video or photo, as they come; writes nothing, prints nothing."""
    options = AnalyzeOptions.overridden(options, overrides)
    if not isinstance(path, str | os.PathLike):
        raise UsageError(f"analyze_video takes a video's or photo's path, not {path!r}")
    # checked and opened here, not at the first next(): a bad option or a missing file is an error of this call
    return _results(options, VideoSource(path))


def _results(options: AnalyzeOptions, source: VideoSource) -> Iterator[FrameResult]:
    with source, Analyzer(options) as analyzer:
        yield from analyzer.run(source)
