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


class Shaped(FixedLogits):
    """A stub runtime whose logits have another shape than (faces, 7)."""

    def __init__(self, reshape) -> None:
        super().__init__([0.0] * 7)
        self.reshape = reshape

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.reshape(super().logits(x))


@pytest.mark.parametrize(
    "reshape",
    [lambda z: z[:, :5], lambda z: z.reshape(-1), lambda z: z[:1], lambda z: z[:, :, None]],
    ids=["five classes", "flat", "one row", "three axes"],
)
def test_logits_of_another_shape_are_refused_in_one_line(reshape):
    spec = PreprocessSpec(input_size=48, channels=1)
    model = EmotionClassifier(Shaped(reshape), spec, {"name": "stub"})
    with pytest.raises(ModelError, match=r"output has shape .* not \(3, 7\)") as info:
        model.predict(FACES)
    assert "\n" not in str(info.value) and "stub" in str(info.value)


@pytest.mark.integration
def test_analyze_with_an_onnx_whose_output_is_not_n_by_7_fails_in_one_line(tmp_path, media, capfd):
    onnx = pytest.importorskip("onnx", reason="making the model needs the onnx package (the dev extra)")
    from onnx import TensorProto, helper

    model = onnx.load(WEIGHTS_DIR / "cnn.onnx")
    model.graph.node[-1].output[0] = "raw_logits"
    for name, value in (("start", 0), ("stop", 5), ("axis", 1)):
        model.graph.initializer.append(helper.make_tensor(name, TensorProto.INT64, [1], [value]))
    model.graph.node.append(helper.make_node("Slice", ["raw_logits", "start", "stop", "axis"], ["logits"]))
    del model.graph.output[0].type.tensor_type.shape.dim[:]
    path = tmp_path / "five.onnx"
    onnx.save(model, path)
    out = tmp_path / "out"
    code, err = run(capfd, "analyze", media("single_face.mp4"), "-o", out, "--model", path, "--every", "10")
    assert code == 1
    assert_one_error(err, "five.onnx", "output has shape")
    assert names(out) == []
