"""training.prior: the tau table on validation data, and the adjustment folded into the last layer."""

import numpy as np
import torch

from fervideo.engine.checkpoint import build_model, load_checkpoint
from tests.helpers import run_path, train_args, write_votes
from training.prior import fold_adjustment, last_linear, main
from training.train import main as train


def test_the_tau_table_scores_both_label_sets(folder_data, tmp_path, capsys):
    out = run_path(tmp_path, "cnn")
    train(train_args(folder_data, out, "--epochs", "1"))
    votes = write_votes(tmp_path / "ferplus.csv", folder_data)
    rows = main(["--checkpoint", str(out), "--data", str(folder_data), "--labels", str(votes), "--taus", "0", "1"])
    assert [r["tau"] for r in rows] == [0.0, 1.0]
    for r in rows:
        assert r["balanced"] == (r["fer2013"]["macro"] + r["ferplus"]["macro"]) / 2
        assert 0 <= r["fer2013"]["min_recall"] <= r["fer2013"]["macro"] <= 1
    assert "best balanced: tau" in capsys.readouterr().out


def test_folding_subtracts_tau_log_prior_from_the_last_bias(folder_data, tmp_path):
    out = run_path(tmp_path, "cnn")
    train(train_args(folder_data, out, "--epochs", "1"))
    model, _ = build_model(load_checkpoint(out))
    before = last_linear(model).bias.detach().clone()
    prior = np.array([0.4, 0.05, 0.05, 0.2, 0.1, 0.1, 0.1])
    fold_adjustment(model, prior, 0.5)
    torch.testing.assert_close(last_linear(model).bias, before - torch.as_tensor(0.5 * np.log(prior)).float())
