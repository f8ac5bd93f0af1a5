import subprocess
import sys

import pytest
import torch

from fervideo.core.errors import UsageError
from fervideo.engine.checkpoint import build_model, load_checkpoint, save_checkpoint
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.models import create_model, get_entry
from fervideo.engine.models.vgg import layer_widths
from tests.conftest import ROOT
from training.prune import kept_widths, parse_args, prune, strengths
from training.prune import main as prune_main


def trained_like(width: int = 16) -> torch.nn.Module:
    """A small FerNet whose batch-norm scales and statistics are not the defaults, as after training."""
    torch.manual_seed(0)
    model = create_model("fernet", width=width)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.uniform_(0.05, 1.5)
            module.bias.data.normal_(0, 0.1)
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def test_channels_override_the_width_and_are_checked():
    model = create_model("fernet", channels=[8, 16, 16, 24, 32, 32, 40, 48])
    assert [b.conv.out_channels for s in model.stages for b in s] == [8, 16, 16, 24, 32, 32, 40, 48]
    assert model(torch.zeros(2, 1, 48, 48)).shape == (2, 7)
    assert layer_widths(create_model("fernet", width=8).config) == [8, 8, 16, 16, 32, 32, 64, 64]
    with pytest.raises(ValueError, match="8 positive widths"):
        create_model("fernet", channels=[8, 8])


def test_keeping_every_channel_changes_nothing():
    model = trained_like()
    same = prune(model, layer_widths(model.config))
    x = torch.randn(4, 1, 48, 48)
    torch.testing.assert_close(same(x), model(x))


def test_pruning_keeps_the_strongest_channels():
    model = trained_like()
    with torch.no_grad():  # channels 0 and 5 of the first layer dominate; others are nearly silent
        model.stages[0][0].bn.weight.fill_(1e-3)
        model.stages[0][0].bn.weight[[0, 5]] = 2.0
    small = prune(model, [2, *layer_widths(model.config)[1:]])
    torch.testing.assert_close(small.stages[0][0].conv.weight, model.stages[0][0].conv.weight[[0, 5]])
    torch.testing.assert_close(small.stages[0][1].conv.weight, model.stages[0][1].conv.weight[:, [0, 5]])
    assert strengths(model)[0].argsort(descending=True)[:2].sort().values.tolist() == [0, 5]


def test_pruned_widths_round_to_vector_multiples():
    assert kept_widths([48, 48, 96, 96, 192, 192, 384, 384], 0.5) == [24, 24, 48, 48, 96, 96, 192, 192]
    assert kept_widths([16, 16, 32], 0.1) == [8, 8, 8]  # never below 8
    assert kept_widths([4], 0.5) == [4]  # never above the width


def test_pruned_checkpoint_loads_and_classifies(tmp_path):
    src, out = tmp_path / "fernet.pt", tmp_path / "small.pt"
    save_checkpoint(src, trained_like(), "fernet", get_entry("fernet").preprocess)
    kept = prune_main(parse_args(["--checkpoint", str(src), "--keep", "0.5", "--out", str(out)]))
    assert kept == [8, 8, 16, 16, 32, 32, 64, 64]
    payload = load_checkpoint(out)
    assert payload["config"]["channels"] == kept and payload["pruned_from"]["checkpoint"] == str(src)
    model, _ = build_model(payload)
    assert layer_widths(model.config) == kept
    probs = EmotionClassifier.load(str(out), "cpu").predict(torch.randint(0, 256, (3, 48, 48)).numpy().astype("uint8"))
    assert probs.shape == (3, 7)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--keep", "0"], "--keep 0.0"),
        (["--channels", "8,x"], "whole numbers"),
        (["--channels", "8,8"], "give 8 widths"),
        (["--channels", "99,16,32,32,64,64,128,128"], "between 1 and"),
    ],
)
def test_bad_pruning_requests_say_what_to_give(tmp_path, extra, message):
    src = tmp_path / "fernet.pt"
    save_checkpoint(src, trained_like(), "fernet", get_entry("fernet").preprocess)
    with pytest.raises(UsageError, match=message):
        prune_main(parse_args(["--checkpoint", str(src), *extra, "--out", str(tmp_path / "o.pt")]))
    assert not (tmp_path / "o.pt").exists()


def test_prune_command_refuses_a_foreign_model_in_one_line(tmp_path):
    src = tmp_path / "cnn.pt"
    save_checkpoint(src, create_model("cnn"), "cnn", get_entry("cnn").preprocess)
    args = [sys.executable, "-m", "training.prune", "--checkpoint", str(src), "--keep", "0.5", "--out", "x.pt"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        f"error: {src}: a 'cnn' model; pruning works on FerNet models"
    ]


def test_prune_will_not_overwrite_its_source(tmp_path):
    src = tmp_path / "fernet.pt"
    save_checkpoint(src, trained_like(), "fernet", get_entry("fernet").preprocess)
    before = src.read_bytes()
    with pytest.raises(UsageError, match="--out"):
        prune_main(parse_args(["--checkpoint", str(src), "--keep", "0.5", "--out", str(src)]))
    assert src.read_bytes() == before


def test_prune_names_itself_as_it_is_run(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    assert capsys.readouterr().out.startswith("usage: python -m training.prune")
