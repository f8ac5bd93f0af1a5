"""Who is who: a face embedding per track, so that a face that leaves and comes back keeps its id.

The embedding is face-api.js's face recognition net (a ResNet giving 128 numbers, dlib's recipe; weights from
the npm package @vladmandic/face-api, MIT, converted by training/face_id_export.py), run by ONNX Runtime on a
150x150 chip cut as face-api's FaceLandmarks.align() cuts it, but turned so that the eyes are level: the chip's
side is the eyes' mean distance to the mouth over 0.45, the three points' centroid at 0.5 across and 0.43 down.
Two chips of one person lie closer than SAME_PERSON in Euclidean distance, two people further apart.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from fervideo.core.errors import ModelError, UsageError
from fervideo.engine.blazeface import WEIGHTS_DIR, _intact
from fervideo.engine.landmarks import MIN_PRESENCE, FaceMesh, _warp
from fervideo.engine.onnx_model import session

EMBED_FILE = "face_recognition.onnx"
EMBED_SHA256 = "00910403b1abace826c6b8b68a9bd61c01133dd5712a3e7a540f686ae798be0d"
CHIP = 150
# Euclidean distance under which two embeddings are one person; dlib, whose recipe the net follows, uses 0.6.
# Measured on every 3rd frame of the shared clips and samples/demo.mp4 and 4 variants of multi_face.jpg (scaled,
# mirrored, brighter): one person's chips lie 0.02-0.33 apart (3,147 pairs), two people's 0.52-0.92 (4,728 pairs,
# 1st percentile 0.73; the nearest pair: two of multi_face.jpg's young women). 0.42 halves the gap
SAME_PERSON = 0.42
SAMPLES = 16  # embeddings kept per person: views from several moments (turned, lit otherwise) all count
REFRESH = 30  # analysed frames between two new samples of a person in view: 30 ms each
# mesh points: the eye corners (33, 133: the person's right eye; 362, 263: the left) and the lips (13, 14, 78, 308)
RIGHT_EYE, LEFT_EYE, MOUTH = (33, 133), (362, 263), (13, 14, 78, 308)


class FaceEmbedder:
    """The recognition net on one thread: frame and boxes in, (N, 128) embeddings out (NaN where no face)."""

    def __init__(self, mesh: FaceMesh | None = None) -> None:
        path = WEIGHTS_DIR / EMBED_FILE
        if not path.is_file() or not _intact(path, EMBED_SHA256):
            raise ModelError(f"{path} is missing or not the face recognition model fervideo ships; reinstall fervideo")
        self.session = session(path)  # one thread: the detector's thread and the classifier have the other cores
        self.mesh = mesh or FaceMesh()

    def __call__(self, image: np.ndarray, xyxy: np.ndarray, roll: np.ndarray | None) -> np.ndarray:
        """Embeddings (N, 128) of the faces in boxes (N, 4) of a BGR frame; rows of NaN where the mesh finds none."""
        out = np.full((len(xyxy), 128), np.nan, np.float32)
        if not len(xyxy):
            return out
        roll = roll if roll is not None else np.zeros(len(xyxy), np.float32)
        marks = self.mesh([image], [xyxy], [roll], [np.zeros(len(xyxy), bool)])[0]  # the mesh alone
        good = marks.presence >= MIN_PRESENCE  # a mesh that is not sure of its face would cut the wrong chip
        if good.any():
            chips = np.stack([_warp(image, square, CHIP) for square in chip_squares(marks.mesh[good])]) * 255
            out[good] = self.session.run(None, {"faces": chips.astype(np.float32)})[0]
        return out


def chip_squares(mesh: np.ndarray) -> np.ndarray:
    """(N, 4) squares (centre x, centre y, side, angle) of the recognition chip, from meshes (N, 468, 3)."""
    eyes = np.stack([mesh[:, RIGHT_EYE, :2].mean(1), mesh[:, LEFT_EYE, :2].mean(1)], axis=1)  # (N, 2, 2)
    mouth = mesh[:, MOUTH, :2].mean(1)
    span = eyes[:, 1] - eyes[:, 0]
    angle = np.arctan2(span[:, 1], span[:, 0])
    side = np.linalg.norm(mouth[:, None] - eyes, axis=2).mean(1) / 0.45
    centroid = (eyes.sum(1) + mouth) / 3
    down = np.stack([-np.sin(angle), np.cos(angle)], axis=1)  # the face's own "down" in the frame
    centre = centroid + down * (0.5 - 0.43) * side[:, None]
    return np.column_stack([centre, side, angle]).astype(np.float32)


@dataclass
class Join:
    """A new track given the id of someone seen before."""

    id: int
    distance: float  # to the nearest of that person's samples; inf when --max-people forced the join


class Gallery:
    """Each person's recent embeddings; picks who a new face is."""

    def __init__(self, threshold: float = SAME_PERSON, max_people: int | None = None) -> None:
        if max_people is not None and max_people < 1:
            raise UsageError(f"--max-people must be 1 or more, not {max_people}")
        self.threshold, self.max_people = threshold, max_people
        self.samples: dict[int, deque[np.ndarray]] = {}
        self.joins: list[Join] = []

    def add(self, person: int, embedding: np.ndarray) -> None:
        """Remember one more view of a person (a NaN embedding, no face found, is skipped)."""
        if np.isfinite(embedding).all():
            self.samples.setdefault(person, deque(maxlen=SAMPLES)).append(np.asarray(embedding, np.float32))

    def distances(self, embeddings: np.ndarray, people: list[int]) -> np.ndarray:
        """(F, P): each embedding's distance to the nearest sample of each person; inf where unknown."""
        out = np.full((len(embeddings), len(people)), np.inf)
        for j, person in enumerate(people):
            kept = self.samples.get(person)
            if kept:
                d = np.linalg.norm(embeddings[:, None] - np.stack(kept)[None], axis=2).min(1)
                out[:, j] = np.where(np.isfinite(d), d, np.inf)
        return out

    def assign(self, embeddings: np.ndarray, visible: set[int], known: int) -> list[int | None]:
        """Ids for new faces: someone not in view now if near enough, else a new id; None: wait (no room).

        known is how many ids exist (1..known); ids in visible are in this frame and never given again in it.
        With max_people reached, a face goes to the nearest person out of view, however far.
        """
        absent = [p for p in range(1, known + 1) if p not in visible]
        d = self.distances(embeddings, absent)
        out: list[int | None] = [None] * len(embeddings)
        for flat in np.argsort(d, axis=None, kind="stable"):  # nearest pairs first, each side used once
            face, j = np.unravel_index(flat, d.shape)
            if out[face] is None and d[face, j] < self.threshold and absent[j] not in out:
                out[face] = absent[j]
                self.joins.append(Join(absent[j], float(d[face, j])))
        for face in range(len(out)):
            if out[face] is not None:
                continue
            if self.max_people is None or known < self.max_people:
                known += 1
                out[face] = known
                continue
            free = [j for j in np.argsort(d[face], kind="stable") if absent[j] not in out]
            if free:
                out[face] = absent[free[0]]
                self.joins.append(Join(absent[free[0]], float(d[face, free[0]])))
        for face, person in enumerate(out):
            if person is not None:
                self.add(person, embeddings[face])
        return out


PARTICIPANTS = ("everyone", "largest", "center")


def check_participant(rule: str) -> str:
    """rule if it is everyone, largest, center or an id (1 or more); UsageError otherwise."""
    if rule in PARTICIPANTS or (rule.isdigit() and int(rule) >= 1):
        return rule
    raise UsageError(f"--participant must be everyone, largest, center or a face id (1, 2, ...), not {rule!r}")


class Participant:
    """Which face the outputs keep: everyone, one id, or the largest / most central face where faces first appear.

    largest and center choose once, in the first analysed frame with a face, then follow that id (re-id keeps it
    when the person leaves and comes back): FaceReader's one participant, without looking ahead in the video.
    """

    def __init__(self, rule: str = "everyone") -> None:
        self.rule = check_participant(rule)
        self.id = int(rule) if rule.isdigit() else None

    def keep(self, ids: np.ndarray, xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
        """(N,) mask of the faces to keep among confirmed faces with public ids (N,) and boxes (N, 4)."""
        if self.rule == "everyone":
            return np.ones(len(ids), bool)
        if self.id is None and len(ids):
            if self.rule == "largest":
                score = -np.prod(xyxy[:, 2:] - xyxy[:, :2], axis=1)
            else:
                centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2 - np.array([width, height], np.float32) / 2
                score = np.linalg.norm(centre, axis=1)
            self.id = int(ids[int(np.argmin(score))])
        return ids == self.id
