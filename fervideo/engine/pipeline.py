"""The analysis engine: frames -> faces -> crops -> batched classification -> tracks, one result per frame."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace

import numpy as np

from fervideo.core.background import prefetch
from fervideo.core.detections import FACE_FEATURES, Detections
from fervideo.core.errors import InputError, UsageError
from fervideo.core.frames import Frame, FrameResult
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.crop import crop_faces, turned
from fervideo.engine.detector import FaceDetector
from fervideo.engine.identity import FaceEmbedder, Participant
from fervideo.engine.landmarks import MIN_PRESENCE, FaceMesh, with_eyes
from fervideo.engine.options import AnalyzeOptions
from fervideo.engine.pose import EyeNormaliser, face_features
from fervideo.engine.schedule import SEARCH_EVERY, ChangeGate, SearchSchedule, adaptive, confirmable, releasable
from fervideo.engine.smoothing import EmaSmoother
from fervideo.engine.source import VideoSource
from fervideo.engine.tracker import IoUTracker, TrackerConfig, confirmed

# Frames decoded and searched for faces ahead of the classifier, in bytes: enough that detection goes on
# while a batch is classified (640x360 on 2 cores: 123 frames/s with 8 frames ahead, 171 with 64).
AHEAD_BYTES = 48 << 20
PENDING_BYTES = 256 << 20  # frames held back while a batch of faces fills; bounds memory on 4K video
# ... and their number: tiny frames with few faces never reach either bound above, so a 2-hour 16x16 clip
# without faces was held whole (685 MB, released only at its end)
PENDING_FRAMES = 512


@dataclass
class _Pending:
    frame: Frame
    faces: Detections | None  # None for frames that were not analysed
    crops: np.ndarray | None


# In place of a frame's detections: the detector skipped this sampled frame (engine.schedule), so the faces
# tracked in the frame before stand where they stood
CARRIED = Detections.empty()


class Analyzer:
    """Holds the detector and the classifier; run() analyses one source at a time."""

    def __init__(
        self,
        options: AnalyzeOptions = AnalyzeOptions(),
        classifier: EmotionClassifier | None = None,
        detector: FaceDetector | None = None,
    ) -> None:
        if not isinstance(options, AnalyzeOptions):  # a dict, say: its keys go to AnalyzeOptions(...) instead
            raise UsageError(f"Analyzer takes a fervideo AnalyzeOptions, not {type(options).__name__}")
        self.options = options
        self.classifier = classifier or EmotionClassifier.load(
            options.model, options.device, options.precision, options.runtime
        )
        self.detector = detector or FaceDetector(options.detector)
        self.mesh = FaceMesh() if options.face_features else None
        self._eyes = EyeNormaliser()  # each track's open eye; run() starts afresh with each source
        self.embedder = FaceEmbedder(self.mesh) if options.tracker.reid else None
        self._participant = Participant(options.participant)  # its choice, too, is made afresh with each source
        self.gate = ChangeGate(options.every_frame)  # run() starts afresh with each source, as do the two below
        self.schedule = SearchSchedule(options.every_frame)
        self._carry = Detections.empty()  # the faces the last search found, for the frames it skips
        self._skipped = 0  # analysed frames since that search
        self._state = "open"  # "running" while a run() is under way: the state above is that run's

    def new_tracker(self, config: TrackerConfig | None = None) -> IoUTracker:
        """A tracker for one source, which re-identifies faces that come back unless the options turn that off."""
        return IoUTracker(config or self.options.tracker, self.embedder)

    def run(self, source: VideoSource, decode_all: bool = True) -> Iterator[FrameResult]:
        """Results for every in-range frame of source, in order; decode_all=False skips decoding unsampled ones."""
        self._usable("run()")
        self._state = "running"
        try:
            yield from self._run(source, decode_all)
        finally:
            self._state = "open" if self._state == "running" else self._state

    def _run(self, source: VideoSource, decode_all: bool) -> Iterator[FrameResult]:
        config = self.options.tracker
        if not confirmable(source.info, self.options.sampling):
            config = replace(config, min_hits=1)
        tracker = self.new_tracker(config)
        self._participant = Participant(self.options.participant)
        self.detector.reset()  # its schedule of the full-range model starts again with each source
        # analysed frames kept back until their new faces are confirmed, by searches up to SEARCH_EVERY apart
        every_frame = self.options.every_frame or not adaptive(source.info, self.options.sampling)
        holdback = (config.min_hits - 1) * (1 if every_frame else SEARCH_EVERY)
        face_size = self.classifier.spec.face_size
        pending: list[_Pending] = []
        pending_faces = pending_bytes = 0
        last = Detections.empty()
        smoother = EmaSmoother(self.options.smooth) if self.options.smooth > 0 else None  # fresh state per source
        self._eyes = EyeNormaliser()
        self.gate, self.schedule = ChangeGate(every_frame), SearchSchedule(every_frame)
        self._carry, self._skipped = Detections.empty(), 0
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
                    cut = releasable([item.faces is not None for item in pending], holdback)
                    last = yield from self._flush(pending[:cut], tracker, last, smoother)
                    pending = pending[cut:]
                    pending_faces = sum(len(p.faces) for p in pending if p.faces is not None)
                    pending_bytes = sum(p.frame.image.nbytes for p in pending if p.frame.image is not None)
            yield from self._flush(pending, tracker, last, smoother)

    def analyze_frame(self, image: np.ndarray, tracker: IoUTracker, time_s: float | None = None) -> Detections:
        """One frame at once, for live use: its confirmed faces with ids and probabilities (no look-ahead).

        Adaptive as run() is unless the options ask for every frame: time_s, the frame's time in seconds (the
        clock's now when not given), paces the searches and readings of frames that come at an uneven rate."""
        self._usable("analyze_frame()")
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
            raise InputError("analyze_frame takes an (H, W, 3) uint8 BGR array, as OpenCV gives a frame")
        time_s = time.monotonic() if time_s is None else time_s
        found = self._searched(self.detector(image), image) if self.schedule.due(image, time_s) else CARRIED
        faces, crops = self._track(image, found, tracker, self.classifier.spec.face_size)
        faces, crops = self._chosen(*confirmed(faces, crops, tracker), image)
        self._read([image], [faces], [crops], [time_s])
        self._forget(tracker.live_ids())
        return faces

    def _found(self, frames: Iterator[Frame], photo: bool = False) -> Iterator[tuple[Frame, Detections | None]]:
        """Decoded frames with the faces the detector finds in the sampled ones (run ahead in a thread).

        Two sampled frames in a row are searched at once (FaceDetector.pair), one on each core: detection sets
        the pace of --no-video. A sampled frame is held back for its partner only while the next frame is too.
        """
        held: Frame | None = None
        for frame in frames:
            if frame.sampled and not photo and self.schedule.due(frame.image):
                if held is None:
                    held = frame
                    continue
                faces = self.detector.pair(held.image, frame.image)
                yield held, self._searched(faces[0], held.image)
                yield frame, self._searched(faces[1], frame.image)
                held = None
                continue
            if held is not None:
                yield held, self._searched(self.detector(held.image), held.image)
                held = None
            if not frame.sampled:
                yield frame, None
            else:
                yield frame, self.detector.photo(frame.image) if photo else CARRIED
        if held is not None:
            yield held, self._searched(self.detector(held.image), held.image)

    def _searched(self, found: Detections, image: np.ndarray) -> Detections:
        self.schedule.found(found.xyxy, image)
        return found

    def _track(
        self, image: np.ndarray, found: Detections, tracker: IoUTracker, face_size: int
    ) -> tuple[Detections, np.ndarray]:
        if found is CARRIED:  # the tracker learns only from searches: a carried flicker never becomes a face
            self._skipped += 1
            faces = self._carry[np.arange(len(self._carry))]
        else:
            faces = self._carry = tracker.update(found, image, self._skipped)  # tracker_id: track keys until _flush
            self._skipped = 0
        roll = faces.roll if self.options.align else None
        crops = crop_faces(image, faces.xyxy, face_size, roll)  # (N, 48, 48) from the BGR frame
        return faces, crops

    def _flush(
        self, pending: list[_Pending], tracker: IoUTracker, last: Detections, smoother: EmaSmoother | None
    ) -> Iterator[FrameResult]:
        """Keep confirmed faces, analyse the changed ones in one batch, then release their frames in order."""
        for item in pending:
            if item.faces is not None:
                item.faces, item.crops = self._chosen(*confirmed(item.faces, item.crops, tracker), item.frame.image)
        marked = [p for p in pending if p.faces is not None and len(p.faces)]
        self._read(
            [p.frame.image for p in marked],
            [p.faces for p in marked],
            [p.crops for p in marked],
            [p.frame.time_s for p in marked],
        )
        for item in pending:
            if item.faces is not None:
                if item.faces.probs is None:  # a frame without faces
                    item.faces.probs = np.zeros((0, len(self.classifier.classes)), np.float32)
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
        live = tracker.live_ids()
        if smoother is not None:  # its memory follows the live tracks, however long the video
            smoother.forget(live)
        self._forget(live)
        return last

    def _forget(self, live: set[int]) -> None:
        """Drop what the eyes' normaliser and the change gate hold for tracks that are gone."""
        self._eyes.forget(live)
        self.gate.forget(live)

    def _read(self, images: list[np.ndarray], faces: list[Detections], crops: list[np.ndarray], times: list) -> None:
        """Mesh and classify the faces of frames (in time order) that changed, in one batch; the others keep their
        last reading (ChangeGate)."""
        # the eye band is read on crops turned so the eyes are level: on a tilted head they leave it, and a blink too
        level = [
            c if self.options.align or self.gate.every_frame or f.roll is None else turned(c, f.roll)
            for f, c in zip(faces, crops, strict=True)
        ]
        decided = [
            self.gate.decide(f.tracker_id, c, t, e) for f, c, t, e in zip(faces, crops, times, level, strict=True)
        ]
        dues = [due for due, _ in decided]
        self._features(images, faces, dues, [eyes for _, eyes in decided])
        size, classes = self.classifier.spec.face_size, len(self.classifier.classes)
        due_crops = [c[due] for c, due in zip(crops, dues, strict=True)]
        batch = np.concatenate([np.empty((0, size, size), np.uint8), *due_crops])
        probs = self.classifier.predict(batch, self.options.batch_size, tta=self.options.tta)
        offset = 0
        for found, due in zip(faces, dues, strict=True):
            found.probs = np.zeros((len(found), classes), np.float32)
            found.probs[due] = probs[offset : offset + due.sum()]
            offset += due.sum()
            self.gate.fill(found, due)

    def _chosen(self, faces: Detections, crops: np.ndarray, image: np.ndarray) -> tuple[Detections, np.ndarray]:
        """Only the --participant's face among confirmed ones (all of them by default)."""
        keep = self._participant.keep(faces.tracker_id, faces.xyxy, image.shape[1], image.shape[0])
        return (faces, crops) if keep.all() else (faces[keep], crops[keep])

    def _features(
        self, images: list[np.ndarray], faces: list[Detections], dues: list[np.ndarray], eyes: list[np.ndarray]
    ) -> None:
        """Set the face-mesh features of the due faces of confirmed ones, in time order, all in one batch; the
        iris model reads only the eyes (N,) bool per frame (ChangeGate.decide), the others' last reading stands."""
        if self.mesh is None or not faces:
            return
        subsets = [f[due] for f, due in zip(faces, dues, strict=True)]
        rolls = [f.roll if f.roll is not None else np.zeros(len(f), np.float32) for f in subsets]
        read = [e[due] for e, due in zip(eyes, dues, strict=True)]
        marks = self.mesh(images, [f.xyxy for f in subsets], rolls, read)
        for found, due, subset, marked, fresh in zip(faces, dues, subsets, marks, read, strict=True):
            # in time order: a reading of the eyes stands for the frames after it
            readings = self.gate.eye_readings(subset.tracker_id, marked.eye_reading, fresh)
            if not fresh.all():  # the mesh placed the eyes it read; only carried readings still need a place
                marked = with_eyes(marked, readings)
            found.features = np.full((len(found), len(FACE_FEATURES)), np.nan, np.float32)
            found.features[due] = face_features(marked, subset.tracker_id, self._eyes)
            # the points too, for --draw landmarks; a mesh on no face (low presence) is no face's
            points = marked.mesh[..., :2].astype(np.float32)
            points[marked.presence < MIN_PRESENCE] = np.nan
            found.landmarks = np.full((len(found), *points.shape[1:]), np.nan, np.float32)
            found.landmarks[due] = points

    def work(self) -> dict:
        """What the last run did, for the JSON: its mode, the searches made and skipped, the faces read and carried."""
        return {
            "mode": "every-frame" if self.gate.every_frame else "adaptive",
            "searches": self.schedule.searched,
            "searches_skipped": self.schedule.skipped,
            "faces_read": self.gate.analysed,
            "faces_carried": self.gate.carried,
            "eyes_read": self.gate.eyes_read,
        }

    def _usable(self, call: str) -> None:
        """Raise UsageError where call cannot run now: the Analyzer is closed, or a run() of it is under way."""
        if self._state != "open":
            why = "is closed; open another" if self._state == "closed" else "is in a run() still; finish or close it"
            raise UsageError(f"{call}: this Analyzer {why} (one Analyzer analyses one source at a time)")

    @property
    def closed(self) -> bool:
        """Whether close() has released the models."""
        return self._state == "closed"

    def close(self) -> None:
        """Release the detector."""
        self._state = "closed"
        self.detector.close()

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
