"""The analysis engine: frames -> faces -> crops -> batched classification -> tracks, one result per frame."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from fervideo.core.background import prefetch
from fervideo.core.choices import DEFAULT_MODEL
from fervideo.core.detections import Detections
from fervideo.core.errors import UsageError
from fervideo.core.frames import Frame, FrameResult
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.crop import crop_faces
from fervideo.engine.detector import DetectorConfig, FaceDetector
from fervideo.engine.identity import FaceEmbedder, Participant, check_participant
from fervideo.engine.landmarks import MIN_PRESENCE, FaceMesh
from fervideo.engine.pose import EyeNormaliser, face_features
from fervideo.engine.runtime import use_threads
from fervideo.engine.smoothing import EmaSmoother
from fervideo.engine.source import Sampling, VideoInfo, VideoSource
from fervideo.engine.tracker import IoUTracker, TrackerConfig

# Frames decoded and searched for faces ahead of the classifier, in bytes: enough that detection goes on
# while a batch is classified (640x360 on 2 cores: 123 frames/s with 8 frames ahead, 171 with 64).
AHEAD_BYTES = 48 << 20
PENDING_BYTES = 256 << 20  # frames held back while a batch of faces fills; bounds memory on 4K video
# ... and their number: tiny frames with few faces never reach either bound above, so a 2-hour 16x16 clip
# without faces was held whole (685 MB, released only at its end)
PENDING_FRAMES = 512


@dataclass(frozen=True)
class AnalyzeOptions:
    model: str = DEFAULT_MODEL  # registered name or checkpoint path
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 | int8 (runtime.choose)
    runtime: str = "auto"  # auto | onnx | torch: ONNX Runtime for the shipped models, torch for other checkpoints
    sampling: Sampling = Sampling()
    batch_size: int = 32  # faces per forward pass; larger batches hold the detector up for longer
    tta: bool = False  # average mirrored and cropped views (classifier.tta_views): +1 pt val accuracy, 6x its cost
    detector: DetectorConfig = DetectorConfig()
    tracker: TrackerConfig = TrackerConfig()
    smooth: float = 0.0  # seconds: EMA time constant of each track's probabilities; 0 keeps them raw
    align: bool = False  # turn each crop so that the eyes are level (BlazeFace's eye keypoints)
    face_features: bool = True  # head pose, eyes, mouth and gaze from the face mesh (Detections.features)
    participant: str = "everyone"  # whose faces the results keep: everyone, largest, center or an id

    def __post_init__(self) -> None:
        check_participant(self.participant)
        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be 1 or more, not {self.batch_size}")
        if not self.smooth >= 0:
            raise UsageError(f"--smooth must be 0 or more seconds, not {self.smooth}")

    def to_dict(self) -> dict:
        """For the JSON summary."""
        return asdict(self)


@dataclass
class _Pending:
    frame: Frame
    faces: Detections | None  # None for frames that were not analysed
    crops: np.ndarray | None


class Analyzer:
    """Holds the detector and the classifier; run() analyses one source at a time."""

    def __init__(
        self,
        options: AnalyzeOptions = AnalyzeOptions(),
        classifier: EmotionClassifier | None = None,
        detector: FaceDetector | None = None,
    ) -> None:
        self.options = options
        self.classifier = classifier or EmotionClassifier.load(
            options.model, options.device, options.precision, options.runtime
        )
        self.detector = detector or FaceDetector(options.detector)
        self.mesh = FaceMesh() if options.face_features else None
        self._eyes = EyeNormaliser()  # each track's open eye; run() starts afresh with each source
        self.embedder = FaceEmbedder(self.mesh) if options.tracker.reid else None
        self._participant = Participant(options.participant)  # its choice, too, is made afresh with each source

    def new_tracker(self, config: TrackerConfig | None = None) -> IoUTracker:
        """A tracker for one source, which re-identifies faces that come back unless the options turn that off."""
        return IoUTracker(config or self.options.tracker, self.embedder)

    def run(self, source: VideoSource, decode_all: bool = True) -> Iterator[FrameResult]:
        """Results for every in-range frame of source, in order; decode_all=False skips decoding unsampled ones."""
        config = self.options.tracker
        if not confirmable(source.info, self.options.sampling):
            config = replace(config, min_hits=1)
        tracker = self.new_tracker(config)
        self._participant = Participant(self.options.participant)
        self.detector.reset()  # its schedule of the full-range model starts again with each source
        holdback = config.min_hits - 1  # analysed frames kept back until their new faces are confirmed
        face_size = self.classifier.spec.face_size
        pending: list[_Pending] = []
        pending_faces = pending_bytes = 0
        last = Detections.empty()
        smoother = EmaSmoother(self.options.smooth) if self.options.smooth > 0 else None  # fresh state per source
        self._eyes = EyeNormaliser()
        ahead = AHEAD_BYTES // max(1, 3 * source.info.width * source.info.height)
        found = self._found(source.frames(self.options.sampling, decode_all), source.info.is_image)
        frames = prefetch(found, min(max(ahead, 2), 256))
        # closed here, not when the garbage collector gets to it: a stop raised in this frame keeps the prefetch
        # generator alive in its traceback, and its thread would go on decoding a source its owner has closed
        with closing(frames):
            for frame, found in frames:
                item = _Pending(frame, None, None)
                if found is not None:
                    item.faces, item.crops = self._track(frame.image, found, tracker, face_size)
                    pending_faces += len(item.faces)
                pending.append(item)
                pending_bytes += frame.image.nbytes if frame.image is not None else 0
                full = pending_faces >= self.options.batch_size or pending_bytes >= PENDING_BYTES
                if full or len(pending) >= PENDING_FRAMES:
                    cut = _releasable(pending, holdback)
                    last = yield from self._flush(pending[:cut], tracker, last, smoother)
                    pending = pending[cut:]
                    pending_faces = sum(len(p.faces) for p in pending if p.faces is not None)
                    pending_bytes = sum(p.frame.image.nbytes for p in pending if p.frame.image is not None)
            yield from self._flush(pending, tracker, last, smoother)

    def analyze_frame(self, image: np.ndarray, tracker: IoUTracker) -> Detections:
        """One frame at once, for live use: its confirmed faces with ids and probabilities (no look-ahead)."""
        faces, crops = _confirmed(*self._detect(image, tracker, self.classifier.spec.face_size), tracker)
        faces, crops = self._chosen(faces, crops, image)
        self._features([image], [faces])
        self._eyes.forget(tracker.live_ids())
        faces.probs = self.classifier.predict(crops, self.options.batch_size, tta=self.options.tta)
        return faces

    def _found(self, frames: Iterator[Frame], photo: bool = False) -> Iterator[tuple[Frame, Detections | None]]:
        """Decoded frames with the faces the detector finds in the sampled ones (run ahead in a thread).

        Two sampled frames in a row are searched at once (FaceDetector.pair), one on each core: detection sets
        the pace of --no-video. A sampled frame is held back for its partner only while the next frame is too.
        """
        held: Frame | None = None
        for frame in frames:
            if photo or not frame.sampled:
                if held is not None:
                    yield held, self.detector(held.image)
                    held = None
                yield frame, (self.detector.photo(frame.image) if frame.sampled else None)
            elif held is None:
                held = frame
            else:
                faces = self.detector.pair(held.image, frame.image)
                yield held, faces[0]
                yield frame, faces[1]
                held = None
        if held is not None:
            yield held, self.detector(held.image)

    def _detect(self, image: np.ndarray, tracker: IoUTracker, face_size: int) -> tuple[Detections, np.ndarray]:
        return self._track(image, self.detector(image), tracker, face_size)

    def _track(
        self, image: np.ndarray, found: Detections, tracker: IoUTracker, face_size: int
    ) -> tuple[Detections, np.ndarray]:
        faces = tracker.update(found, image)  # tracker_id holds track keys until _flush
        roll = faces.roll if self.options.align else None
        crops = crop_faces(image, faces.xyxy, face_size, roll)  # (N, 48, 48) from the BGR frame
        return faces, crops

    def _flush(
        self, pending: list[_Pending], tracker: IoUTracker, last: Detections, smoother: EmaSmoother | None
    ) -> Iterator[FrameResult]:
        """Keep confirmed faces, classify them in one batch, then release their frames in order (smoothed)."""
        for item in pending:
            if item.faces is not None:
                item.faces, item.crops = self._chosen(*_confirmed(item.faces, item.crops, tracker), item.frame.image)
        marked = [p for p in pending if p.faces is not None and len(p.faces)]
        self._features([p.frame.image for p in marked], [p.faces for p in marked])
        crops = [p.crops for p in pending if p.crops is not None]
        probs = (
            self.classifier.predict(np.concatenate(crops), self.options.batch_size, tta=self.options.tta)
            if crops
            else None
        )
        offset = 0
        for item in pending:
            if item.faces is not None:
                item.faces.probs = probs[offset : offset + len(item.faces)]
                offset += len(item.faces)
                if smoother is not None and len(item.faces):  # in time order: release order is frame order
                    item.faces.probs = smoother(item.faces.tracker_id, item.faces.probs, item.frame.time_s)
                last = item.faces
            yield FrameResult(
                item.frame.index,
                item.frame.time_s,
                item.frame.image,
                item.faces is not None,
                item.faces if item.faces is not None else last,
            )
        if smoother is not None:  # its memory follows the live tracks, however long the video
            smoother.forget(tracker.live_ids())
        self._eyes.forget(tracker.live_ids())
        return last

    def _chosen(self, faces: Detections, crops: np.ndarray, image: np.ndarray) -> tuple[Detections, np.ndarray]:
        """Only the --participant's face among confirmed ones (all of them by default)."""
        keep = self._participant.keep(faces.tracker_id, faces.xyxy, image.shape[1], image.shape[0])
        return (faces, crops) if keep.all() else (faces[keep], crops[keep])

    def _features(self, images: list[np.ndarray], faces: list[Detections]) -> None:
        """Set the face-mesh features of confirmed faces, in time order, all frames' faces in one batch."""
        if self.mesh is None or not faces:
            return
        rolls = [f.roll if f.roll is not None else np.zeros(len(f), np.float32) for f in faces]
        marks = self.mesh(images, [f.xyxy for f in faces], rolls)
        for found, marked in zip(faces, marks, strict=True):
            found.features = face_features(marked, found.tracker_id, self._eyes)
            # the points too, for --draw landmarks; a mesh on no face (low presence) is no face's
            points = marked.mesh[..., :2].astype(np.float32)
            points[marked.presence < MIN_PRESENCE] = np.nan
            found.landmarks = points

    def close(self) -> None:
        """Release the detector."""
        self.detector.close()

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Above this gap between analysed frames a face may well have moved or gone by the next one: waiting for a
# second sighting would drop real faces (--fps 0.4 on a short clip found none) rather than flickers.
CONFIRM_GAP_S = 0.5


def confirmable(info: VideoInfo, sampling: Sampling) -> bool:
    """Whether new faces can wait for a second analysed frame: not in a photo, a 1-frame video, or sparse sampling."""
    if info.is_image or info.frames == 1:
        return False
    gap = 1.0 / sampling.fps if sampling.fps is not None else sampling.every / info.fps if info.fps > 0 else 0.0
    return gap <= CONFIRM_GAP_S


def use_cores(cores: int | None = None) -> int:
    """Give the classifier one thread fewer than the cores analysing a video (default: all); returns how many.

    The detector thread keeps one core busy; a classifier that also wanted it waited at every parallel
    region (fernet, 640x360 on 2 cores: 151 frames/s with 2 torch threads, 193 with 1, --no-video).
    """
    threads = max(1, (cores or os.cpu_count() or 1) - 1)
    use_threads(threads)
    return threads


def _confirmed(faces: Detections, crops: np.ndarray, tracker: IoUTracker) -> tuple[Detections, np.ndarray]:
    """Only the faces whose track is confirmed, with track keys replaced by public ids."""
    ids = tracker.public_ids(faces.tracker_id)
    faces, crops = faces[ids > 0], crops[ids > 0]
    faces.tracker_id = ids[ids > 0]
    return faces, crops


def _releasable(pending: list[_Pending], holdback: int) -> int:
    """How many leading items may be released: all up to the last `holdback` analysed frames."""
    analysed = [i for i, item in enumerate(pending) if item.faces is not None]
    return len(pending) if holdback == 0 else (analysed[-holdback] if len(analysed) >= holdback else 0)


def analyze_video(
    path: str | Path, options: AnalyzeOptions = AnalyzeOptions(), **overrides: object
) -> Iterator[FrameResult]:
    """Yield a FrameResult for every frame of a video or photo; writes nothing, prints nothing."""
    if overrides:
        options = AnalyzeOptions(**{**options.__dict__, **overrides})
    with Analyzer(options) as analyzer, VideoSource(path) as source:
        yield from analyzer.run(source)
