"""FER+ crowd labels (10 raters per FER2013 image): soft targets for training, majority labels for scoring.

The CSV has one row per image: `file` (relative to the FER2013 folder, e.g. `train/angry/Training_1.jpg`), then
the vote counts in FER+'s own order. Images FER+ left unnamed have empty counts.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fervideo.core.errors import InputError
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import Split, split_files

VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
# FER+ column -> FER2013 class index; contempt, unknown and not-a-face have no FER2013 class
TO_FER2013 = {"neutral": 6, "happiness": 3, "surprise": 5, "sadness": 4, "anger": 0, "disgust": 1, "fear": 2}
_FER_COLUMNS = [VOTE_COLUMNS.index(name) for name in sorted(TO_FER2013, key=TO_FER2013.get)]  # in EMOTIONS order


def read_votes(path: str | Path) -> dict[str, np.ndarray]:
    """{file: votes (10,) float32}, NaN for the images FER+ left unnamed."""
    path = Path(path)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if not {"file", *VOTE_COLUMNS} <= set(reader.fieldnames or ()):
                raise InputError(f"{path}: not a FER+ votes file (needs the columns file, {', '.join(VOTE_COLUMNS)})")
            votes = {}
            for row in reader:
                cells = [row[name].strip() for name in VOTE_COLUMNS]
                votes[row["file"]] = np.array([float(c) if c else np.nan for c in cells], np.float32)
    except FileNotFoundError:
        raise InputError(f"{path}: no such FER+ votes file") from None
    except (UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise InputError(f"{path}: not a FER+ votes file ({exc})") from exc
    return votes


def vote_matrix(votes: dict[str, np.ndarray], files: list[str]) -> np.ndarray:
    """Votes (N, 10) for files (relative names, in a split's order); NaN rows where FER+ has none."""
    missing = np.full(len(VOTE_COLUMNS), np.nan, np.float32)
    rows = [votes.get(name, missing) for name in files]
    found = sum(name in votes for name in files)
    if files and 2 * found < len(files):  # a different copy of FER2013, or the wrong folder (1 of 1 too)
        raise InputError(f"FER+ votes name only {found} of {len(files)} images; is it the votes file of this data?")
    return np.stack(rows) if rows else np.zeros((0, len(VOTE_COLUMNS)), np.float32)


def majority_labels(votes: np.ndarray) -> np.ndarray:
    """FER+'s majority protocol: labels (N,) in FER2013 order, -1 for the images the protocol leaves out.

    Votes of 1 are dropped; an image counts when its top class holds more than half of the remaining votes and
    is one of the 7 FER2013 classes (a contempt, unknown or not-a-face winner, or no votes, leaves it out).
    """
    kept = np.where(np.nan_to_num(votes) > 1, np.nan_to_num(votes), 0.0)  # (N, 10)
    total = kept.sum(axis=1)
    top = kept.argmax(axis=1)
    majority = kept.max(axis=1) > total / 2
    fer = np.array([TO_FER2013.get(name, -1) for name in VOTE_COLUMNS])[top]
    return np.where(majority & (total > 0) & (fer >= 0), fer, -1).astype(np.int64)


def soft_targets(votes: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Vote shares over the 7 FER2013 classes (N, 7); one-hot fallback labels where no such vote exists."""
    seven = np.nan_to_num(votes[:, _FER_COLUMNS])  # (N, 7), EMOTIONS order
    total = seven.sum(axis=1, keepdims=True)
    hard = np.eye(len(EMOTIONS), dtype=np.float32)[fallback]
    return np.where(total > 0, seven / np.maximum(total, 1), hard).astype(np.float32)


def majority_split(data: str | Path, split: str, faces: Split, votes_csv: str | Path) -> Split:
    """faces (a folder split of data, as loaded) relabelled by FER+ majority, only the images the protocol keeps."""
    labels = majority_labels(vote_matrix(read_votes(votes_csv), split_files(data, split)))
    assert len(labels) == len(faces), "split_files lists a split in load_split's order"
    if not (labels >= 0).any():  # an accuracy of 0 of 0 would look like a result
        raise InputError(f"{votes_csv}: none of the {len(labels)} images of {split} has a FER+ majority label")
    return Split(faces.images[labels >= 0], labels[labels >= 0])
