"""fervideo.engine.models, .checkpoint and .classifier: the registry contract and checkpoints."""

import pickle

import numpy as np
import pytest
import torch

from fervideo.core.errors import ModelError
from fervideo.core.labels import EMOTIONS
from fervideo.engine.checkpoint import FORMAT, WEIGHTS_DIR, build_model, load_checkpoint, resolve, save_checkpoint
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.models import DEFAULT_MODEL, create_model, get_entry, list_models
from fervideo.engine.torch_model import model_input

MODELS = [entry.name for entry in list_models()]


def run_code(marker):
    """What a malicious pickle does when unpickled: act, then pass for a valid checkpoint."""
    with open(marker, "w") as f:
        f.write("code ran")
    return {"format": FORMAT, "arch": "cnn"}


class Foreign:
    """A pickle that runs code on loading and would otherwise look like a fervideo checkpoint."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return run_code, (self.marker,)


def random_faces(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


def model_and_input(name, n=2):
    entry = get_entry(name)
    torch.manual_seed(0)
    model = create_model(name, **entry.test_config)  # big models register a tiny config for tests
    return model, model_input(random_faces(n), entry.preprocess)


def test_registry_lists_default():
    assert DEFAULT_MODEL in MODELS
    assert sorted(MODELS) == MODELS


def test_unknown_model_name():
    with pytest.raises(ModelError, match="known models"):
        get_entry("nope")
    with pytest.raises(ModelError):
        create_model("nope")


@pytest.mark.parametrize("name", MODELS)
def test_forward_shape_and_finite(name):
    model, x = model_and_input(name)
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert out.shape == (2, len(EMOTIONS))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", MODELS)
def test_gradients_reach_every_parameter(name):
    model, x = model_and_input(name, n=4)
    model.train()
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 3, 4, 6]))
    loss.backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, f"{param_name} gets no gradient"
        assert torch.isfinite(param.grad).all(), param_name
        assert param.grad.abs().sum() > 0, f"{param_name} gets an all-zero gradient"


@pytest.mark.parametrize("name", MODELS)
def test_checkpoint_round_trip(name, tmp_path):
    model, x = model_and_input(name)
    model.eval()
    entry = get_entry(name)
    path = tmp_path / "sub" / f"{name}.pt"
    save_checkpoint(path, model, name, entry.preprocess, metrics={"val_accuracy": 0.5}, note="test")
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    payload = load_checkpoint(path)
    assert payload["format"] == FORMAT and payload["arch"] == name
    assert payload["classes"] == list(EMOTIONS)
    assert payload["metrics"] == {"val_accuracy": 0.5} and payload["note"] == "test"
    rebuilt, spec = build_model(payload)
    assert spec == entry.preprocess
    assert not rebuilt.training
    with torch.no_grad():
        assert torch.equal(rebuilt(x), model(x))


def test_a_checkpoint_under_a_file_is_an_output_error_naming_the_folder(tmp_path):
    from fervideo.core.errors import OutputError

    (tmp_path / "taken").write_text("a file, not a folder")
    model, _ = model_and_input("cnn")
    with pytest.raises(OutputError, match="taken"):
        save_checkpoint(tmp_path / "taken" / "m.pt", model, "cnn", get_entry("cnn").preprocess)


def test_build_model_rejects_other_classes_and_bad_weights(tmp_path):
    model, _ = model_and_input(DEFAULT_MODEL)
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, DEFAULT_MODEL, get_entry(DEFAULT_MODEL).preprocess)
    payload = load_checkpoint(path)
    with pytest.raises(ModelError, match="classes"):
        build_model({**payload, "classes": list(reversed(EMOTIONS))})
    with pytest.raises(ModelError, match="unknown model"):
        build_model({**payload, "arch": "nope"})
    state = dict(payload["state_dict"])
    state.pop(next(iter(state)))
    with pytest.raises(ModelError, match="do not fit"):
        build_model({**payload, "state_dict": state})


# --- foreign files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"config": {"no_such_option": 1}}, "config does not fit"),
        ({"config": "not a table"}, "wrong types"),
        ({"arch": ["cnn"]}, "wrong types"),
        ({"classes": 7}, "classes"),
        ({"state_dict": {"conv1.weight": "text"}}, "do not fit"),
        ({"preprocess": {"channels": "grey"}}, "preprocessing"),
        ({"preprocess": {"input_size": 0}}, "preprocessing"),
        ({"preprocess": {"std": 0.0}}, "preprocessing"),
        ({"preprocess": {"mean": float("nan")}}, "preprocessing"),
        ({"preprocess": {"channels": 3, "mean": [0.5, 0.5]}}, "3 channels"),
    ],
)
def test_build_model_rejects_malformed_fields_with_one_line(tmp_path, changes, message):
    model, _ = model_and_input(DEFAULT_MODEL)
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, DEFAULT_MODEL, get_entry(DEFAULT_MODEL).preprocess)
    with pytest.raises(ModelError, match=message) as info:
        build_model({**load_checkpoint(path), **changes})
    assert "\n" not in str(info.value)  # the CLI reports it as a single line


def test_load_checkpoint_missing_file(tmp_path):
    with pytest.raises(ModelError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ModelError, match="is a folder"):
        load_checkpoint(tmp_path)


def write_text(path):
    path.write_text("definitely not a checkpoint\n")


def write_empty(path):
    path.write_bytes(b"")


def write_plain_dict(path):
    torch.save({"state_dict": {"w": torch.zeros(2)}, "arch": "cnn"}, path)


def write_wrong_marker(path):
    torch.save({"format": "something-else/1"}, path)


def write_list(path):
    torch.save([1, 2, 3], path)


def write_pickled_object(path):
    path.write_bytes(pickle.dumps(Foreign(path.with_name("ran.txt"))))


def write_torch_saved_object(path):
    torch.save(Foreign(path.with_name("ran.txt")), path)


def write_truncated(path):
    torch.save({"format": FORMAT, "w": torch.zeros(1000)}, path)
    path.write_bytes(path.read_bytes()[:200])


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize(
    "writer",
    [
        write_text,
        write_empty,
        write_plain_dict,
        write_wrong_marker,
        write_list,
        write_pickled_object,
        write_torch_saved_object,
        write_truncated,
    ],
)
def test_load_checkpoint_rejects_foreign_files(writer, tmp_path):
    path = tmp_path / "foreign.pt"
    writer(path)
    with pytest.raises(ModelError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    assert not (tmp_path / "ran.txt").exists()  # nothing in the file was executed


def test_resolve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="unknown model"):
        resolve("nope")
    assert resolve("cnn").is_file()
    assert resolve("some/where.pt") == resolve("some/where.pt")  # a path is passed through as is
    assert str(resolve("some/where.pt")) == "some/where.pt"
    assert str(resolve("some/where.ckpt")) == "some/where.ckpt"  # any suffix, once it looks like a path
    (tmp_path / "weights.bin").write_bytes(b"x")
    assert str(resolve("weights.bin")) == "weights.bin"  # an existing file, whatever its suffix
    (tmp_path / "cnn").mkdir()  # a folder that happens to share a model's name does not hide the model
    assert resolve("cnn") == WEIGHTS_DIR / get_entry("cnn").weights


@pytest.mark.parametrize("name", MODELS)
def test_resolve_registered_names(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = get_entry(name)
    shipped = entry.weights is not None and (WEIGHTS_DIR / entry.weights).is_file()
    if shipped:
        path = resolve(name)
        assert path == WEIGHTS_DIR / entry.weights
        assert load_checkpoint(path)["arch"] == name  # shipped weights are for the model they are listed under
    else:
        with pytest.raises(ModelError, match="ships no weights"):
            resolve(name)


# --- shipped weights -----------------------------------------------------------------------------


def test_classifier_shipped_weights_predict():
    clf = EmotionClassifier.load("cnn", device="cpu")
    assert clf.classes == EMOTIONS
    assert clf.info["arch"] == "cnn" and len(clf.info["sha256"]) == 64
    probs = clf.predict(random_faces(5), batch_size=2)  # several batches
    assert probs.shape == (5, 7) and probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(clf.predict(random_faces(5), batch_size=64), probs, atol=1e-6)
    assert clf.predict(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)


def test_classifier_loads_a_checkpoint_path(tmp_path):
    model, _ = model_and_input(DEFAULT_MODEL)
    path = tmp_path / "mine.pt"
    save_checkpoint(path, model, DEFAULT_MODEL, get_entry(DEFAULT_MODEL).preprocess)
    clf = EmotionClassifier.load(str(path), device="cpu", precision="fp32")  # exact: bf16 is tested apart
    assert clf.info["name"] == str(path) and clf.info["checkpoint"] == str(path)
    faces = random_faces(3)
    with torch.no_grad():
        expected = torch.softmax(model.eval()(model_input(faces, clf.spec)), 1).numpy()
    np.testing.assert_allclose(clf.predict(faces), expected, atol=1e-6)
