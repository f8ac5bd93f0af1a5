"""BlazeFace run directly: the same faces, scores and keypoints as mediapipe's own face-detection graph."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace, anchors, weighted_nms
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration


def frames(path, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    read = [capture.read() for _ in range(count)]
    capture.release()
    return [image for ok, image in read if ok]


def graph_faces(graph, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What mediapipe's Python solution returns, in pixels and best first."""
    height, width = bgr.shape[:2]
    boxes, scores, points = [], [], []
    for det in graph.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).detections or []:
        rel = det.location_data.relative_bounding_box
        x0, y0 = rel.xmin * width, rel.ymin * height
        boxes.append([x0, y0, x0 + rel.width * width, y0 + rel.height * height])
        scores.append(det.score[0])
        points.append([(k.x * width, k.y * height) for k in det.location_data.relative_keypoints])
    order = np.argsort(-np.array(scores), kind="stable")
    return np.array(boxes).reshape(-1, 4)[order], np.array(scores)[order], np.array(points).reshape(-1, 6, 2)[order]


@pytest.mark.parametrize(("selection", "spec"), [(0, SHORT_RANGE), (1, FULL_RANGE)])
def test_the_same_faces_as_mediapipes_graph(media, selection, spec):
    from mediapipe.python.solutions.face_detection import FaceDetection

    images = frames(SAMPLE, 10) + frames(media("face_noface.mov"), 40)[::4]
    images += [cv2.imread(str(media(name))) for name in ("multi_face.jpg", "single_face.jpg")]
    images += [np.zeros((240, 320, 3), np.uint8), cv2.rotate(images[-1], cv2.ROTATE_90_CLOCKWISE)]  # none; tall
    small = cv2.resize(images[-3], (59, 100), interpolation=cv2.INTER_AREA)  # odd sizes: the warp's rounding shows
    images += [small, cv2.copyMakeBorder(small, 25, 25, 50, 50, cv2.BORDER_CONSTANT, value=(128, 128, 128))]
    model = BlazeFace(spec)
    with FaceDetection(model_selection=selection, min_detection_confidence=0.5) as graph:
        found = 0
        for bgr in images:
            boxes, scores, points = graph_faces(graph, bgr)
            mine = model(bgr, bgr=True)
            assert len(mine.score) == len(scores)
            assert np.allclose(mine.score, scores, atol=1e-5)
            assert np.abs(mine.xyxy - boxes).max(initial=0) < 0.05  # px
            assert np.abs(mine.keypoints - points).max(initial=0) < 0.05
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

    broken = tmp_path / "face_detection_short_range.tflite"
    broken.write_bytes(blazeface.model_file(SHORT_RANGE).read_bytes()[:5000])  # cut short, as by a failed install
    monkeypatch.setattr(blazeface, "model_file", lambda spec: broken)
    with pytest.raises(ModelError, match="reinstall mediapipe==0.10.21"):
        BlazeFace(SHORT_RANGE)  # checked before TFLite reads it: TFLite would crash the process
    other = tmp_path / "other.tflite"
    other.write_bytes(blazeface.model_file(FULL_RANGE).read_bytes())  # a model, but not the one asked for
    monkeypatch.setattr(blazeface, "model_file", lambda spec: other)
    with pytest.raises(ModelError, match="not the model mediapipe 0.10.21 ships"):
        BlazeFace(SHORT_RANGE)
