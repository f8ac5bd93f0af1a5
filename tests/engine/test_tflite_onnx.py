"""The shipped ONNX face models against the TFLite files they were converted from, run on LiteRT, on real frames.

training/tflite_onnx.py converts mediapipe's four .tflite files once; ONNX Runtime runs the results. Here each
converted model's raw outputs, on the very inputs fervideo gives it, are held to LiteRT's outputs for the
.tflite file, and so are the faces and points the whole FaceDetector and FaceMesh find with either runtime.
LiteRT (ai-edge-litert) is in the dev extra only.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

import fervideo.engine.blazeface as blazeface
import fervideo.engine.landmarks as landmarks
from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, WEIGHTS_DIR
from fervideo.engine.detector import FaceDetector
from fervideo.engine.landmarks import IRIS_FILE, IRIS_SHA256, MESH_FILE, MESH_SHA256, FaceMesh
from tests.conftest import SAMPLE
from tests.engine.record_blazeface import frames

pytest.importorskip("ai_edge_litert", reason="LiteRT (ai-edge-litert, the dev extra) runs the .tflite files")
from training.litert import LiteRTSession  # noqa: E402
from training.tflite_onnx import convert  # noqa: E402

pytestmark = pytest.mark.integration
# the .tflite files as mediapipe 0.10.21's wheels hold them (fervideo/weights/README.md), and what they became
SOURCES = {
    SHORT_RANGE.file: ("bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8", SHORT_RANGE.sha256),
    FULL_RANGE.file: ("2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1", FULL_RANGE.sha256),
    MESH_FILE: ("1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814", MESH_SHA256),
    IRIS_FILE: ("d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f", IRIS_SHA256),
}
# raw outputs (model pixels and logits): measured within 1e-4 relative + 7e-4 on these frames
RTOL, ATOL = 1e-4, 5e-3
# through the whole detector and mesh, in frame pixels: measured 2e-4 (boxes), 0.007 (mesh), 0.033 (eyes, irises:
# the eye crops follow the mesh points, so the iris model sees slightly moved pixels)
BOX_PX, MESH_PX, EYE_PX, SCORE = 0.01, 0.05, 0.1, 1e-5


class Recorded:
    """An ONNX Runtime session that keeps every input it was given and what it answered."""

    def __init__(self, inner: object) -> None:
        self.inner, self.calls = inner, []

    def get_inputs(self) -> list:
        return self.inner.get_inputs()

    def get_outputs(self) -> list:
        return self.inner.get_outputs()

    def run(self, names: None, feed: dict) -> list:
        outputs = self.inner.run(names, feed)
        self.calls.append((feed, outputs))
        return outputs


def on_litert(monkeypatch) -> None:
    """Build the face models from now on on LiteRT with the .tflite files the ONNX ones were converted from."""

    def litert(path):
        return LiteRTSession(path.with_suffix(".tflite"))

    monkeypatch.setattr(blazeface, "session", litert)
    monkeypatch.setattr(landmarks, "session", litert)


def analysed(pictures: list[np.ndarray], photos: bool) -> list[tuple]:
    """(faces, marks) for each picture: the detector's faces (photo() for stills) and the mesh on them."""
    detector, mesh = FaceDetector(), FaceMesh()
    found = []
    for bgr in pictures:
        faces = detector.photo(bgr) if photos else detector(bgr)
        roll = faces.roll if faces.roll is not None else np.zeros(len(faces), np.float32)
        found.append((faces, mesh([bgr], [faces.xyxy], [roll])[0]))
    detector.close()
    return found


@pytest.fixture(params=["demo.mp4", "single_face.mp4", "face_noface.mov", "photos"])
def pictures(request, media) -> tuple[list[np.ndarray], bool]:
    """Real frames (every third of the first 60, every sixth of 90) or the shared photos, and whether stills."""
    if request.param == "demo.mp4":
        return frames(SAMPLE, 60)[::3], False
    if request.param == "photos":
        return [cv2.imread(str(media(name))) for name in ("multi_face.jpg", "single_face.jpg")], True
    return frames(media(request.param), 90)[::6], False


@pytest.mark.parametrize("file", SOURCES)
def test_the_shipped_onnx_file_is_what_the_converter_makes_of_mediapipes_file(file):
    tflite, shipped = WEIGHTS_DIR / file.replace(".onnx", ".tflite"), WEIGHTS_DIR / file
    source_sha256, onnx_sha256 = SOURCES[file]
    assert hashlib.sha256(tflite.read_bytes()).hexdigest() == source_sha256
    model = convert(tflite)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["source_sha256"] == source_sha256 and "Derived from MediaPipe's" in props["notice"]
    made = model.SerializeToString()
    assert made == shipped.read_bytes(), f"{shipped} is stale: python -m training.tflite_onnx"
    assert hashlib.sha256(made).hexdigest() == onnx_sha256  # the sha256 the code checks before it loads


def test_each_model_gives_litert_s_outputs_on_the_inputs_fervideo_gives_it(pictures, monkeypatch):
    sessions: dict[str, list[Recorded]] = {}
    real = blazeface.session

    def recorded(path):
        sessions.setdefault(path.name, []).append(Recorded(real(path)))
        return sessions[path.name][-1]

    monkeypatch.setattr(blazeface, "session", recorded)
    monkeypatch.setattr(landmarks, "session", recorded)
    analysed(*pictures)
    assert set(sessions) == set(SOURCES)  # every model ran: the pictures hold faces
    checked = 0
    for name, kept in sessions.items():
        lite = LiteRTSession(WEIGHTS_DIR / name.replace(".onnx", ".tflite"))
        for feed, outputs in (call for session in kept for call in session.calls):
            for got, want in zip(outputs, lite.run(None, feed), strict=True):
                assert got.shape == want.shape, name
                np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=name)
            checked += 1
    assert checked >= len(pictures[0])  # at least one model ran on every picture


def test_the_detector_and_the_mesh_find_what_they_found_on_litert(pictures, monkeypatch):
    on_onnx = analysed(*pictures)
    on_litert(monkeypatch)
    on_tflite = analysed(*pictures)
    faces = 0
    for (found, marks), (want, want_marks) in zip(on_onnx, on_tflite, strict=True):
        assert len(found) == len(want) and len(marks.mesh) == len(want_marks.mesh)
        faces += len(found)
        assert np.abs(found.xyxy - want.xyxy).max(initial=0) < BOX_PX
        assert np.abs(found.confidence - want.confidence).max(initial=0) < SCORE
        assert np.abs(marks.mesh - want_marks.mesh).max(initial=0) < MESH_PX
        assert np.abs(marks.presence - want_marks.presence).max(initial=0) < SCORE
        assert np.abs(marks.eyes - want_marks.eyes).max(initial=0) < EYE_PX
        assert np.abs(marks.irises - want_marks.irises).max(initial=0) < EYE_PX
    assert faces >= len(on_onnx) // 2  # not a comparison of empty lists
