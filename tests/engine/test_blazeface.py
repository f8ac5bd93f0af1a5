"""BlazeFace run directly: the same faces, scores and keypoints as mediapipe's own face-detection graph.

mediapipe 0.10.21 pins numpy<2, so it is not in the dev install: its graph's answers on pictures that ship with
the repository are recorded in blazeface_reference.json (tests/engine/record_blazeface.py); where mediapipe is
installed, the graph itself is compared too, on ../shared's clips and photos as well.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace, anchors, weighted_nms
from tests.conftest import SAMPLE
from tests.engine.record_blazeface import REFERENCE, digest, frames, graph_faces, pictures

pytestmark = pytest.mark.integration
SPECS = {"short_range": SHORT_RANGE, "full_range": FULL_RANGE}


def assert_same(mine, boxes: np.ndarray, scores: np.ndarray, points: np.ndarray, where: str) -> None:
    """fervideo's faces against the graph's: the same count, scores within 1e-5, points within 0.05 px."""
    assert len(mine.score) == len(scores), where
    assert np.allclose(mine.score, scores, atol=1e-5), where
    assert np.abs(mine.xyxy - boxes).max(initial=0) < 0.05, where  # px
    assert np.abs(mine.keypoints - points).max(initial=0) < 0.05, where


@pytest.mark.parametrize("model", SPECS)
def test_the_same_faces_as_mediapipes_graph_found_in_the_recorded_pictures(model):
    recorded = json.loads(REFERENCE.read_text())
    images = pictures()
    assert sorted(images) == sorted(recorded["pictures"])
    changed = [name for name, image in images.items() if digest(image) != recorded["pictures"][name]["sha256"]]
    # a decoder or resize that differs from the recording's (its OpenCV is in the file) changes the pixels
    assert not changed, f"these pictures differ from the recorded ones: {changed}; record again"
    detector = BlazeFace(SPECS[model])
    for name, faces in recorded["models"][model].items():
        boxes = np.array([face["xyxy"] for face in faces]).reshape(-1, 4)
        points = np.array([face["keypoints"] for face in faces]).reshape(-1, 6, 2)
        scores = np.array([face["score"] for face in faces])
        assert_same(detector(images[name], bgr=True), boxes, scores, points, name)
    assert sum(map(len, recorded["models"][model].values())) >= len(images) - 6  # not a comparison of empty lists


@pytest.mark.parametrize(("selection", "spec"), [(0, SHORT_RANGE), (1, FULL_RANGE)])
def test_the_same_faces_as_mediapipes_graph(media, selection, spec):
    pytest.importorskip("mediapipe", reason="mediapipe is not installed (its graph pins numpy<2); see the test above")
    from mediapipe.python.solutions.face_detection import FaceDetection

    images = frames(SAMPLE, 10) + frames(media("face_noface.mov"), 40)[::4]
    images += [cv2.imread(str(media(name))) for name in ("multi_face.jpg", "single_face.jpg")]
    images += [np.zeros((240, 320, 3), np.uint8), cv2.rotate(images[-1], cv2.ROTATE_90_CLOCKWISE)]  # none; tall
    small = cv2.resize(images[-3], (59, 100), interpolation=cv2.INTER_AREA)  # odd sizes: the warp's rounding shows
    images += [small, cv2.copyMakeBorder(small, 25, 25, 50, 50, cv2.BORDER_CONSTANT, value=(128, 128, 128))]
    model = BlazeFace(spec)
    with FaceDetection(model_selection=selection, min_detection_confidence=0.5) as graph:
        found = 0
        for i, bgr in enumerate(images):
            boxes, scores, points = graph_faces(graph, bgr)
            assert_same(model(bgr, bgr=True), boxes, scores, points, f"picture {i}")
            found += len(scores)
    assert found >= len(images) - 4  # most pictures hold a face: the comparison is not of empty lists


def test_rgb_and_bgr_input_find_the_same_faces():
    bgr = frames(SAMPLE, 1)[0]
    model = BlazeFace(SHORT_RANGE)
    a, b = model(bgr, bgr=True), model(np.ascontiguousarray(bgr[..., ::-1]))
    assert len(a.score) >= 1 and np.array_equal(a.xyxy, b.xyxy)


def test_anchors_cover_the_unit_square_in_the_models_output_order():
    short, full = anchors(SHORT_RANGE), anchors(FULL_RANGE)
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    assert np.allclose(short[:2], 0.5 / 16) and np.allclose(short[512:518], 0.5 / 8)  # 2 per cell, then 6
    assert (short > 0).all() and (short < 1).all() and np.allclose(full[47], [47.5 / 48, 0.5 / 48])


def test_weighted_nms_blends_a_cluster_and_keeps_a_separate_face():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    points = np.zeros((3, 6, 2), np.float32)
    merged, kept, _ = weighted_nms(boxes, scores, points, 0.3)
    assert kept.tolist() == pytest.approx([0.9, 0.8])
    assert merged[0, 0] == pytest.approx(0.6 / 1.5) and merged[1].tolist() == [50, 50, 60, 60]
    empty = weighted_nms(boxes[:0], scores[:0], points[:0], 0.3)
    assert [len(part) for part in empty] == [0, 0, 0]


def test_a_broken_model_file_is_one_clear_error(tmp_path, monkeypatch):
    import fervideo.engine.blazeface as blazeface
    from fervideo.core.errors import ModelError

    broken = tmp_path / "face_detection_short_range.onnx"
    broken.write_bytes(blazeface.model_file(SHORT_RANGE).read_bytes()[:5000])  # cut short, as by a failed install
    monkeypatch.setattr(blazeface, "model_file", lambda spec: broken)
    with pytest.raises(ModelError, match="reinstall fervideo"):
        BlazeFace(SHORT_RANGE)  # checked before ONNX Runtime reads it
    other = tmp_path / "other.onnx"
    other.write_bytes(blazeface.model_file(FULL_RANGE).read_bytes())  # a model, but not the one asked for
    monkeypatch.setattr(blazeface, "model_file", lambda spec: other)
    with pytest.raises(ModelError, match="not the BlazeFace model fervideo ships"):
        BlazeFace(SHORT_RANGE)
    monkeypatch.setattr(blazeface, "model_file", lambda spec: tmp_path / "gone.onnx")
    with pytest.raises(ModelError, match="is missing; reinstall fervideo"):
        BlazeFace(SHORT_RANGE)
