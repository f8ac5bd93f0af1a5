"""Property-based check of the CSV sink: every face a row, probabilities summing to 1."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fervideo.core.detections import Detections
from fervideo.core.frames import FrameResult
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.sinks import CSV_HEADER, CsvSink
from tests.strategies import FAST, frame_and_boxes

probability_vectors = st.lists(st.floats(0, 1), min_size=len(EMOTIONS), max_size=len(EMOTIONS)).filter(
    lambda p: sum(p) > 1e-3
)


@st.composite
def frame_results(draw) -> list[FrameResult]:
    results = []
    for index in range(draw(st.integers(1, 6))):
        _, _, boxes = draw(frame_and_boxes())
        raw = np.array([draw(probability_vectors) for _ in boxes], np.float64).reshape(-1, len(EMOTIONS))
        probs = (raw / raw.sum(axis=1, keepdims=True)).astype(np.float32)
        scores = np.array([draw(st.floats(0, 1)) for _ in boxes], np.float32)
        faces = Detections(boxes, scores, tracker_id=np.arange(1, len(boxes) + 1), probs=probs)
        results.append(FrameResult(index, index / 30.0, None, draw(st.booleans()), faces))
    return results


@given(frame_results())
@FAST
def test_csv_rows_carry_every_face_and_probabilities_summing_to_1(results):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.csv"
        with CsvSink(path) as sink:
            for result in results:
                sink.write(result)
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0].keys()) == CSV_HEADER if rows else path.read_text().strip() == ",".join(CSV_HEADER)
    analysed = [r for r in results if r.analysed]
    assert len(rows) == sum(max(len(r.faces), 1) for r in analysed)
    faces = iter(row for row in rows if row["face_id"])
    for result in analysed:
        for i in range(len(result.faces)):
            row = next(faces)
            assert int(row["frame"]) == result.index and int(row["face_id"]) == result.faces.tracker_id[i]
            x0, y0, x1, y1 = result.faces.xyxy[i]
            assert abs(int(row["x"]) - x0) <= 0.5 + 1e-3 and abs(int(row["w"]) - (x1 - x0)) <= 0.5 + 1e-3
            probs = [float(row[name]) for name in EMOTIONS]
            assert abs(sum(probs) - 1) < 1e-5 and min(probs) >= 0
            assert probs[EMOTIONS.index(row["emotion"])] == pytest.approx(max(probs), abs=1e-6)
            assert float(row["confidence"]) == pytest.approx(max(probs), abs=1e-4)
    assert next(faces, None) is None
