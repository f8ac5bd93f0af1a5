"""Without the .pt files (the wheel leaves them out) torch rebuilds each shipped model from its ONNX file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fervideo.core.errors import ModelError
from fervideo.data.dataset import load_split
from fervideo.engine.checkpoint import WEIGHTS_DIR, build_model, load_checkpoint, resolve, shipped_weights
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.models import list_models
from fervideo.engine.onnx_file import read_onnx
from fervideo.engine.preprocess import prepare
from fervideo.run.evaluation import model_catalog
from tests.conftest import shared_path

SHIPPED = [e.name for e in list_models() if e.weights and (WEIGHTS_DIR / e.weights).is_file()]


@pytest.fixture
def onnx_only(tmp_path, monkeypatch):
    """The shipped weights as an installed wheel has them: every ONNX file, no .pt."""
    weights = tmp_path / "weights"
    weights.mkdir()
    for path in WEIGHTS_DIR.glob("*.onnx"):
        (weights / path.name).symlink_to(path)
    monkeypatch.setattr("fervideo.engine.checkpoint.WEIGHTS_DIR", weights)
    return weights


@pytest.fixture(scope="module")
def real_faces():
    """Every twelfth FER2013 val face (300): a few hundred real faces of every class."""
    faces = load_split(shared_path("fer2013"), "val").images[::12]
    assert len(faces) >= 300
    return faces


def test_every_shipped_model_has_a_float_onnx_twin():
    assert {"fernet_plus", "fernet", "cnn", "vit"} <= set(SHIPPED)
    for name in SHIPPED:
        assert (WEIGHTS_DIR / f"{name}.onnx").is_file(), f"{name}: python -m training.export --onnx"


@pytest.mark.parametrize("name", SHIPPED)
def test_the_rebuilt_checkpoint_holds_the_shipped_weights_and_description(name, onnx_only):
    path = resolve(name)
    assert path == onnx_only / f"{name}.onnx" and shipped_weights(name) == path
    original, rebuilt = load_checkpoint(WEIGHTS_DIR / f"{name}.pt"), load_checkpoint(path)
    for key in ("arch", "config", "preprocess", "classes", "metrics", "temperature"):
        assert rebuilt[key] == original[key], key
    assert rebuilt["rebuilt_from"] == f"{name}.onnx"
    want, got = original["state_dict"], rebuilt["state_dict"]
    assert got.keys() == want.keys()
    for key, tensor in want.items():
        if key.endswith("num_batches_tracked"):  # ONNX keeps no step counter; only training with momentum=None reads it
            assert got[key].dtype == torch.long and got[key].item() == 0
        else:  # float16 in both files: widened, the weights are the same numbers
            assert got[key].dtype == torch.float32 and torch.equal(got[key], tensor.float()), key


@pytest.mark.parametrize("name", SHIPPED)
def test_torch_runs_a_shipped_model_from_its_onnx_file_as_from_its_checkpoint(name, onnx_only, real_faces):
    from_pt = EmotionClassifier.load(str(WEIGHTS_DIR / f"{name}.pt"), "cpu", precision="fp32")
    from_onnx = EmotionClassifier.load(name, "cpu", precision="fp32", runtime="torch")
    assert from_onnx.runtime == "torch" and from_onnx.info["checkpoint"] == str(onnx_only / f"{name}.onnx")
    assert from_onnx.info["name"] == name and from_onnx.info["arch"] == from_pt.info["arch"]
    assert from_onnx.spec == from_pt.spec and from_onnx.temperature == from_pt.temperature
    x = prepare(real_faces, from_pt.spec)
    want, got = from_pt.model.logits(x), from_onnx.model.logits(x)
    np.testing.assert_allclose(got, want, atol=2e-2)  # float16 rounding at most; the weights are bit-identical
    assert (got.argmax(1) == want.argmax(1)).mean() >= 0.995
    assert len(set(want.argmax(1))) >= 3  # real faces that the models tell apart, not one class throughout


def test_models_lists_the_same_catalogue_from_the_onnx_files(onnx_only, monkeypatch):
    monkeypatch.setattr("fervideo.engine.checkpoint.WEIGHTS_DIR", WEIGHTS_DIR)
    with_pt = model_catalog()
    monkeypatch.setattr("fervideo.engine.checkpoint.WEIGHTS_DIR", onnx_only)
    assert model_catalog() == with_pt
    assert sum(row["shipped"] for row in with_pt) == len(SHIPPED)


def test_a_model_with_neither_file_still_says_how_to_train_it(onnx_only):
    (onnx_only / "cnn.onnx").unlink()
    assert shipped_weights("cnn") is None
    with pytest.raises(ModelError, match="ships no weights; train it with"):
        resolve("cnn")


def test_the_reader_gives_what_the_onnx_package_gives():
    onnx = pytest.importorskip("onnx", reason="the comparison needs the onnx package (the dev extra)")
    from onnx import numpy_helper

    files = sorted(WEIGHTS_DIR.glob("*.onnx"))  # float, int8 (typed fields as well as raw bytes), face recognition
    assert any(p.name.endswith(".int8.onnx") for p in files)
    for path in files:
        model = onnx.load(str(path))
        metadata, tensors = read_onnx(path)
        assert metadata == {p.key: p.value for p in model.metadata_props}, path.name
        want = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        assert tensors.keys() == want.keys(), path.name
        for key, array in want.items():
            assert tensors[key].dtype == array.dtype and np.array_equal(tensors[key], array), (path.name, key)


def test_a_quantised_file_says_which_file_to_pass():
    int8 = WEIGHTS_DIR / "fernet_plus.int8.onnx"
    with pytest.raises(ModelError) as info:
        load_checkpoint(int8)
    assert str(info.value).endswith(f"holds int8 weights; pass the float file {WEIGHTS_DIR / 'fernet_plus.onnx'}")


@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_a_truncated_onnx_file_is_a_model_error_naming_it(cut, tmp_path):
    data = (WEIGHTS_DIR / "cnn.onnx").read_bytes()
    broken = tmp_path / "cnn.onnx"
    broken.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ModelError, match="cnn.onnx") as info:
        build_model(load_checkpoint(broken))
    assert "\n" not in str(info.value)


def test_an_onnx_file_without_a_description_is_refused(tmp_path):
    foreign = tmp_path / "face_recognition.onnx"
    foreign.symlink_to(WEIGHTS_DIR / "face_recognition.onnx")
    with pytest.raises(ModelError, match="without fervideo's description"):
        load_checkpoint(foreign)
