"""fervideo.engine.calibration, the checkpoint's temperature, and training.export --calibrate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fervideo.core.errors import ModelError, UsageError
from fervideo.engine.calibration import expected_calibration_error, fit_temperature, softmax
from fervideo.engine.checkpoint import load_checkpoint, save_checkpoint
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.models import create_model, get_entry
from training.export import main, parse_args


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_not():
    probs = np.tile([[0.8, 0.2]], (10, 1))
    labels = np.array([0] * 8 + [1] * 2)  # right 80% of the time at 80% confidence
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.ones(10, np.int64)) == pytest.approx(0.8)
    assert expected_calibration_error(np.zeros((0, 2)), np.zeros(0, np.int64)) == 0.0


def test_fit_temperature_recovers_the_temperature_labels_were_drawn_at():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (20000, 7))
    truth = softmax(logits, 2.5)
    labels = np.array([rng.choice(7, p=row) for row in truth])
    fitted = fit_temperature(logits, labels)
    assert fitted == pytest.approx(2.5, rel=0.05)
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits, fitted), labels)
    assert after < 0.02 < before


@pytest.fixture
def run_checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "run.pt"
    save_checkpoint(path, create_model("fernet", width=8), "fernet", get_entry("fernet").preprocess, {})
    return path


def test_the_checkpoint_temperature_softens_the_probabilities(run_checkpoint, tmp_path):
    payload = load_checkpoint(run_checkpoint)
    hot = tmp_path / "hot.pt"
    torch.save(payload | {"temperature": 4.0}, hot)
    faces = np.random.default_rng(1).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    plain = EmotionClassifier.load(str(run_checkpoint), "cpu", "fp32")
    soft = EmotionClassifier.load(str(hot), "cpu", "fp32")
    assert plain.info["temperature"] == 1.0 and soft.info["temperature"] == 4.0
    p, q = plain.predict(faces), soft.predict(faces)
    np.testing.assert_array_equal(p.argmax(1), q.argmax(1))  # a temperature never changes the top emotion
    assert (q.max(axis=1) <= p.max(axis=1) + 1e-6).all() and q.max() < p.max()
    torch.save(payload | {"temperature": -1}, hot)
    with pytest.raises(ModelError, match="temperature -1"):
        EmotionClassifier.load(str(hot), "cpu")


def test_export_calibrate_stores_a_fitted_temperature(run_checkpoint, folder_data, tmp_path, monkeypatch):
    monkeypatch.setenv("FERVIDEO_CACHE", str(tmp_path / "cache"))
    out = main(
        parse_args(
            ["--checkpoint", str(run_checkpoint), "--out", str(tmp_path / "c.pt"), "--calibrate", str(folder_data)]
        )
    )
    payload = load_checkpoint(out)
    calibration = payload["metrics"]["calibration"]
    assert payload["temperature"] == calibration["temperature"] > 0 and calibration["n"] == 14
    assert calibration["ece"] <= calibration["ece_before"] + 1e-9
    assert EmotionClassifier.load(str(out), "cpu").temperature == payload["temperature"]
    with pytest.raises(UsageError, match="goes with --calibrate"):
        main(parse_args(["--checkpoint", str(run_checkpoint), "--out", str(tmp_path / "d.pt"), "--labels", "x.csv"]))
