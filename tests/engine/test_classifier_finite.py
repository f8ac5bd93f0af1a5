"""A model whose outputs are NaN or infinite is refused in one line, never turned into "angry 100%" (issue 33)."""

from __future__ import annotations

import numpy as np
import pytest

from fervideo.core.errors import ModelError
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.preprocess import PreprocessSpec
from fervideo.engine.runtime import WEIGHTS_DIR
from tests.faults import assert_one_error, names, run


class FixedLogits:
    """A stub runtime that answers every batch with the same row of logits."""

    runtime, precision = "stub", "fp32"

    def __init__(self, row: list[float]) -> None:
        self.row = np.array(row, np.float32)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.tile(self.row, (len(x), 1))


def classifier(row: list[float], temperature: float = 1.0) -> EmotionClassifier:
    spec = PreprocessSpec(input_size=48, channels=1)
    return EmotionClassifier(FixedLogits(row), spec, {"name": "stub"}, temperature)


FACES = np.full((3, 48, 48), 128, np.uint8)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_are_refused(bad):
    with pytest.raises(ModelError, match="not finite") as info:
        classifier([0.0, 1.0, bad, 0.0, 0.0, 0.0, 0.0]).predict(FACES)
    assert "\n" not in str(info.value) and "stub" in str(info.value)


def test_a_non_finite_view_under_tta_is_refused_too():
    with pytest.raises(ModelError, match="not finite"):
        classifier([np.nan] * 7).predict(FACES, tta=True)


def test_finite_logits_still_give_probabilities():
    probs = classifier([0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0]).predict(FACES)
    assert np.isfinite(probs).all() and np.allclose(probs.sum(axis=1), 1.0)


@pytest.fixture
def nan_model(tmp_path):
    """The shipped cnn.onnx with its logits multiplied by NaN: a real ONNX file that loads and runs."""
    onnx = pytest.importorskip("onnx", reason="making the damaged model needs the onnx package (the dev extra)")
    from onnx import TensorProto, helper

    model = onnx.load(WEIGHTS_DIR / "cnn.onnx")
    last = model.graph.node[-1]
    last.output[0] = "raw_logits"
    nan = helper.make_tensor("nan_scale", TensorProto.FLOAT, [], [float("nan")])
    model.graph.initializer.append(nan)
    model.graph.node.append(helper.make_node("Mul", ["raw_logits", "nan_scale"], ["logits"]))
    onnx.checker.check_model(model)
    path = tmp_path / "nan.onnx"
    onnx.save(model, path)
    return path


@pytest.mark.integration
def test_analyze_with_a_model_that_outputs_nan_fails_in_one_line(nan_model, tmp_path, media, capfd):
    out = tmp_path / "out"
    code, err = run(capfd, "analyze", media("single_face.mp4"), "-o", out, "--model", nan_model, "--every", "10")
    assert code == 1
    assert_one_error(err, "nan.onnx", "not finite")
    assert names(out) == []  # no result that looks complete
