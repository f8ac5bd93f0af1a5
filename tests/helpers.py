"""Readers for what fervideo writes, used by the integration tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2

from fervideo.labels import EMOTIONS
from fervideo.sinks import CSV_HEADER


def read_csv(path: Path) -> list[dict]:
    """Rows of a result CSV, checking the header on the way."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == CSV_HEADER
        return list(reader)


def read_json(path: Path) -> dict:
    """A JSON summary."""
    return json.loads(Path(path).read_text())


def video_shape(path: Path) -> tuple[int, int, int]:
    """(frames, width, height) of a video, counting the frames OpenCV actually decodes."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"OpenCV cannot open {path}"
    frames = 0
    while capture.grab():
        frames += 1
    size = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    return frames, *size


def frames_with_face(rows: list[dict]) -> set[int]:
    """Source frame indices that have at least one face row."""
    return {int(r["frame"]) for r in rows if r["face_id"]}


def check_probabilities(rows: list[dict]) -> None:
    """Every face row's seven probabilities sum to 1 and its emotion is the top one."""
    for row in rows:
        if not row["face_id"]:
            assert all(row[k] == "" for k in CSV_HEADER[2:])
            continue
        probs = [float(row[name]) for name in EMOTIONS]
        assert abs(sum(probs) - 1) < 1e-4
        assert row["emotion"] == EMOTIONS[probs.index(max(probs))]
        assert abs(float(row["confidence"]) - max(probs)) < 1e-4
