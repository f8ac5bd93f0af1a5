"""training.schedule: the cosine schedule and --budget, which fits the epoch count to the time a run may take."""

import pytest
import torch

from fervideo.core.errors import UsageError
from fervideo.engine.checkpoint import load_checkpoint
from tests.helpers import run_path, train_args
from training.schedule import fit_epochs, make_scheduler
from training.train import main, settings


@pytest.mark.parametrize(
    ("planned", "done", "per_epoch", "left", "expected"),
    [
        (40, 1, 10.0, 1000.0, 40),  # plenty of time: the plan stands
        (40, 1, 10.0, 200.0, 20),  # 19 more fit (with slack), after the one done
        (40, 3, 10.0, 0.0, 3),  # out of time: the run ends with the epoch just done
        (3, 3, 10.0, 0.0, 3),  # never beyond the plan
    ],
)
def test_fit_epochs(planned, done, per_epoch, left, expected):
    assert fit_epochs(planned, done, per_epoch, left) == expected


def test_cosine_follows_a_shortened_plan():
    hp = {"scheduler": "cosine", "epochs": 10}
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = make_scheduler(optimizer, hp)
    hp["epochs"] = 2  # what --budget does after the first epoch
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5)  # halfway through two epochs, not ten


def test_budget_cuts_the_run_short(folder_data, tmp_path):
    out = run_path(tmp_path, "budget")
    main(train_args(folder_data, out, "--epochs", "50", "--budget", "0.001", "--scheduler", "cosine"))
    state = load_checkpoint(out.with_suffix(".last.pt"))["train_state"]
    assert len(state["history"]) < 50  # 0.06 s cannot hold fifty epochs
    assert state["hp"]["epochs"] == len(state["history"])


def test_budget_must_be_positive(tmp_path):
    with pytest.raises(UsageError, match="--budget"):
        settings(train_args(tmp_path, tmp_path / "x.pt", "--budget", "0"))
