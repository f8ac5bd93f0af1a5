"""fervideo.run.evaluation and `fervideo eval`: accuracy, per-class table and confusion matrix on FER2013 splits."""

import json
import re

import numpy as np
import pytest

from fervideo.cli import main
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import Split
from fervideo.data.metrics import per_class_lines
from fervideo.engine.models import DEFAULT_MODEL
from fervideo.run.evaluation import MODEL_KEYS, count_parameters, evaluate, evaluate_split, model_catalog
from tests.conftest import shared_path
from tests.helpers import face, small_fer_csv, write_folder

INFO = {
    "name": "fake",
    "arch": "fake",
    "checkpoint": "-",
    "sha256": "0" * 64,
    "input_size": 48,
    "runtime": "torch",
    "precision": "fp32",
    "temperature": 1.0,
    "metrics": {},
}


class BrightnessClassifier:
    """Reads the class from test_dataset.face's grey level (10 * label + index); records its calls."""

    info = INFO

    def __init__(self):
        self.calls = []

    def predict(self, faces, batch_size=64, tta=False):
        self.calls.append((len(faces), batch_size, tta))
        return np.eye(7, dtype=np.float32)[faces.reshape(len(faces), -1).max(axis=1) // 10]


def split_of(labels):
    labels = np.array(labels, np.int64)
    return Split(np.stack([face(label, i % 10) for i, label in enumerate(labels)]), labels)


def test_evaluate_in_batches():
    split = split_of([0, 1, 2, 3, 3, 3, 4, 5, 6])
    clf, seen = BrightnessClassifier(), []
    result = evaluate(clf, split, batch_size=4, tta=True, progress=lambda done, total: seen.append((done, total)))
    assert clf.calls == [(4, 4, True), (4, 4, True), (1, 4, True)]
    assert seen == [(4, 9), (8, 9), (9, 9)]
    assert result["accuracy"] == 1.0 and result["n"] == 9
    assert result["per_class"]["happy"] == {"correct": 3, "total": 3, "accuracy": 1.0}
    assert np.array_equal(np.diag(result["confusion"]), [1, 1, 1, 3, 1, 1, 1])
    assert result["classes"] == list(EMOTIONS) and result["tta"] is True
    assert result["model"] == {k: INFO[k] for k in MODEL_KEYS} and "temperature" in MODEL_KEYS
    assert result["ece"] == 0.0 and result["macro_accuracy"] == 1.0  # always right, and always sure


def test_confusion_rows_are_true_classes():
    split = split_of([0, 0, 3])
    split.images[:] = face(3, 0)  # every face looks happy
    result = evaluate(BrightnessClassifier(), split)
    assert result["confusion"][0] == [0, 0, 0, 2, 0, 0, 0] and result["confusion"][3][3] == 1
    assert result["accuracy"] == pytest.approx(1 / 3)
    assert per_class_lines(result)[0] == "Angry: 0% (0/2)" and per_class_lines(result)[3] == "Happy: 100% (1/1)"


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("fer"), {"val": 2, "test": 1})


def test_evaluate_split_with_the_shipped_model(tiny_data, tmp_path):
    result = evaluate_split(tiny_data, "val", "cnn", "cpu", tta=True, batch_size=5, cache_dir=tmp_path)
    assert result["n"] == 14 and result["split"] == "val" and result["data"] == str(tiny_data)
    assert sum(map(sum, result["confusion"])) == 14
    assert all(row["total"] == 2 for row in result["per_class"].values())
    assert result["model"]["name"] == "cnn" and len(result["model"]["sha256"]) == 64 and result["tta"] is True
    assert len(list(tmp_path.glob("fer2013-val-*.npz"))) == 1  # the decoded split went to the given cache


def test_eval_json(tiny_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FERVIDEO_CACHE", str(tmp_path / "cache"))
    code = main(["eval", "--data", str(tiny_data), "--split", "test", "--device", "cpu", "--tta", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)  # stdout is exactly one JSON object
    assert {"accuracy", "n", "per_class", "confusion", "model", "tta", "split"} <= result.keys()
    assert result["n"] == 7 and result["split"] == "test" and result["tta"] is True
    assert set(result["per_class"]) == set(EMOTIONS)
    assert set(result["per_class"]["sad"]) == {"correct", "total", "accuracy"}
    assert np.array(result["confusion"]).shape == (7, 7)
    assert result["model"]["name"] == DEFAULT_MODEL and len(result["model"]["sha256"]) == 64
    assert list((tmp_path / "cache").glob("*.npz"))


def test_eval_table(tmp_path, capsys):
    data = small_fer_csv(tmp_path / "fer2013.csv")
    code = main(["eval", "--data", str(data), "--device", "cpu", "--cache-dir", str(tmp_path / "cache")])
    out = capsys.readouterr().out
    assert code == 0
    summary = (
        r"^accuracy \d+\.\d\d% \(\d/2\), macro accuracy \d+\.\d\d%, calibration error \(ECE, 15 bins\) \d+\.\d\d%$"
    )
    assert re.search(summary, out, re.M)
    for name in EMOTIONS:  # the study's per-class lines, empty classes included
        assert re.search(rf"^{name.capitalize()}: (\d+%|-) \(\d+/\d+\)$", out, re.M), name
    assert "Happy: " in out and re.search(r"^Disgust: - \(0/0\)$", out, re.M)
    assert "confusion matrix" in out and "true \\ predicted" in out


def test_the_lean_catalogue_says_what_the_torch_one_says_of_each_shipped_onnx_model():
    from fervideo.engine.runtime import WEIGHTS_DIR
    from fervideo.run.evaluation import onnx_catalog

    full = {row["name"]: row for row in model_catalog() if (WEIGHTS_DIR / f"{row['name']}.onnx").is_file()}
    lean = onnx_catalog()
    assert [row["name"] for row in lean] == sorted(full) and len(lean) >= 5
    for row in lean:
        assert row == full[row["name"]]  # a stale ONNX description (parameters, summary, accuracy) shows here


def test_catalog_and_parameter_count():
    rows = {row["name"]: row for row in model_catalog()}
    assert rows["cnn"]["parameters"] == 61451 == count_parameters("cnn")
    assert rows["cnn"]["input"] == "32x32x1" and rows["cnn"]["shipped"]
    assert rows[DEFAULT_MODEL]["default"] and rows[DEFAULT_MODEL]["shipped"]
    assert rows["cnn"]["val_accuracy"] == pytest.approx(0.3887, abs=1e-4)
    assert sum(row["default"] for row in rows.values()) == 1
    assert all(row["val_accuracy"] is None for row in rows.values() if not row["shipped"])


@pytest.mark.integration
def test_shipped_cnn_on_the_validation_split(capsys):
    data = shared_path("fer2013", "val")
    code = main(["eval", "--data", str(data.parent), "--split", "val", "--model", "cnn", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["n"] == 3589 and result["accuracy"] >= 0.37  # the shipped cnn scores 38.9%
    assert result["model"]["name"] == "cnn" and result["tta"] is False
