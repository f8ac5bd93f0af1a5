"""fervideo.analyze_image: the faces of one picture, from a path or an array, without a tracker."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from matplotlib import cbook

import fervideo
from fervideo.core.errors import InputError, UsageError
from fervideo.engine.pipeline import Analyzer
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration
PORTRAIT = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)  # public domain, ships with matplotlib


@pytest.fixture(scope="module")
def analyzer():
    with Analyzer() as shared:
        yield shared


def test_a_portrait_has_one_face_with_its_emotions(analyzer):
    (face,) = fervideo.analyze_image(PORTRAIT, analyzer=analyzer)
    x0, y0, x1, y1 = face.box
    assert 100 < x0 < x1 < 420 and 50 < y0 < y1 < 450  # her face, in the 512x600 picture's pixels
    assert 0.65 <= face.confidence <= 1 and list(face.probs) == list(fervideo.EMOTIONS)
    assert sum(face.probs.values()) == pytest.approx(1, abs=1e-4)
    assert face.emotion == max(face.probs, key=face.probs.get)
    negative = max(face.probs[name] for name in ("sad", "angry", "fear", "disgust"))
    assert face.valence == pytest.approx(face.probs["happy"] - negative, abs=1e-6)


def test_a_path_and_its_pixels_give_the_same_faces(analyzer):
    bgr = cv2.imread(str(PORTRAIT))
    by_path = fervideo.analyze_image(str(PORTRAIT), analyzer=analyzer)
    by_array = fervideo.analyze_image(bgr, analyzer=analyzer)
    grey = fervideo.analyze_image(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), analyzer=analyzer)
    assert by_path == by_array and len(grey) == 1
    two = fervideo.analyze_image(np.hstack([bgr, bgr[:, ::-1]]), analyzer=analyzer)
    assert len(two) == 2 and two[0].confidence >= two[1].confidence


def test_it_loads_its_own_models_and_takes_options():
    faces = fervideo.analyze_image(PORTRAIT, model="fernet_lite", align=True)
    assert len(faces) == 1 and faces[0].emotion in fervideo.EMOTIONS
    assert fervideo.analyze_image(np.zeros((240, 320, 3), np.uint8), model="fernet_lite") == []


def test_what_is_not_a_picture_is_one_clear_error(analyzer, tmp_path):
    with pytest.raises(InputError, match="not a photo; fervideo.analyze_video reads videos"):
        fervideo.analyze_image(SAMPLE, analyzer=analyzer)
    with pytest.raises(InputError, match="must be uint8"):
        fervideo.analyze_image(np.zeros((10, 10, 3), np.float32), analyzer=analyzer)
    with pytest.raises(InputError, match=r"\(height, width, 3\) BGR"):
        fervideo.analyze_image(np.zeros((10, 10, 2), np.uint8), analyzer=analyzer)
    with pytest.raises(UsageError, match="give them to the Analyzer"):
        fervideo.analyze_image(PORTRAIT, analyzer=analyzer, tta=True)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="not a readable image"):
        fervideo.analyze_image(broken, analyzer=analyzer)
