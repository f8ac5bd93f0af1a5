"""training.targets.epoch_order and --oversample: rare folder classes drawn more often, and only when asked."""

import numpy as np
import pytest
import torch

from fervideo.core.errors import UsageError
from fervideo.engine.checkpoint import load_checkpoint
from tests.helpers import run_path, train_args
from training.targets import epoch_order
from training.train import main, parse_args, settings

SKEWED = np.array([0] * 900 + [1] * 100)


def test_power_zero_is_a_plain_shuffle():
    order = epoch_order(SKEWED, 0.0, torch.Generator().manual_seed(0))
    assert sorted(order.tolist()) == list(range(len(SKEWED)))
    assert order.tolist() != list(range(len(SKEWED)))


@pytest.mark.parametrize(("power", "share"), [(1.0, 0.5), (0.5, 0.25)])
def test_the_rare_class_share_follows_the_power(power, share):
    # power 1: each class as often; 0.5: weights 900 ** -0.5 and 100 ** -0.5, so class 1 has 10 / (30 + 10)
    draws = torch.cat([epoch_order(SKEWED, power, torch.Generator().manual_seed(s)) for s in range(20)])
    drawn = SKEWED[draws.numpy()]
    assert len(draws) == 20 * len(SKEWED)
    assert abs((drawn == 1).mean() - share) < 0.02  # 10% in the data


def test_the_draw_replays_with_its_seed():
    first, again = (epoch_order(SKEWED, 0.5, torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(first, again)


@pytest.mark.parametrize("power", ["-0.5", "1.5"])
def test_power_outside_zero_to_one_is_a_usage_error(tmp_path, power):
    with pytest.raises(UsageError, match="--oversample"):
        settings(parse_args(["--data", str(tmp_path), "--oversample", power]))


def test_a_run_records_its_oversampling(folder_data, tmp_path):
    out = run_path(tmp_path, "over")
    main(train_args(folder_data, out, "--epochs", "1", "--oversample", "0.5"))
    assert load_checkpoint(out.with_suffix(".last.pt"))["train_state"]["hp"]["oversample"] == 0.5
