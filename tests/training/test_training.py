"""training: batch augmentation and a tiny end-to-end training run with resume."""

import numpy as np
import pytest
import torch

from fervideo.core.errors import UsageError
from fervideo.engine.checkpoint import load_checkpoint
from fervideo.engine.classifier import EmotionClassifier
from tests.helpers import run_path, small_fer_csv, train_args
from training.augment import AugmentConfig, augment
from training.recipes import model_config
from training.train import main, parse_args, settings

# --- training.augment ----------------------------------------------------------------------------


def batch(n=64, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8))


@pytest.mark.parametrize(
    "config",
    [
        AugmentConfig(),
        AugmentConfig(hflip=True, vflip=True),
        AugmentConfig(crop_pad=4),
        AugmentConfig(rotate=15.0),
        AugmentConfig(hflip=True, vflip=True, crop_pad=4, rotate=10.0),
        AugmentConfig(hflip=False),
    ],
)
def test_augment_keeps_shape_and_dtype(config):
    x = batch()
    original = x.clone()
    out = augment(x, config, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == torch.uint8
    assert torch.equal(x, original)  # the input batch is not modified


def test_hflip_is_a_pure_flip():
    x = batch()
    out = augment(x, AugmentConfig(hflip=True), torch.Generator().manual_seed(1))
    flipped = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, x, strict=True)])
    assert torch.all(flipped ^ kept)  # each face exactly flipped or exactly unchanged
    assert 10 < flipped.sum() < 54  # about half of 64


def test_no_augmentation_is_identity():
    x = batch()
    assert torch.equal(augment(x, AugmentConfig(hflip=False), torch.Generator().manual_seed(0)), x)


def test_augment_is_reproducible_with_generator():
    config = AugmentConfig(hflip=True, vflip=True, crop_pad=4, rotate=10.0)
    x = batch()
    a = augment(x, config, torch.Generator().manual_seed(7))
    b = augment(x, config, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, augment(x, config, torch.Generator().manual_seed(8)))


def test_affine_keeps_flat_faces_flat():
    x = torch.full((8, 48, 48), 123, dtype=torch.uint8)
    out = augment(x, AugmentConfig(hflip=False, crop_pad=4, rotate=20.0), torch.Generator().manual_seed(0))
    assert torch.all(out == 123)  # borders replicate the edge: no black corners


# --- training.train ------------------------------------------------------------------------------


def test_settings_apply_flags_over_recipe(tmp_path):
    hp = settings(parse_args(["--data", str(tmp_path), "--lr", "0.5", "--epochs", "2"]))
    assert hp["lr"] == 0.5 and hp["epochs"] == 2
    assert hp["optimizer"] == "adam" and hp["batch_size"] == 32  # from the cnn recipe
    hp = settings(parse_args(["--data", str(tmp_path), "--model", "fernet", "--erase", "0.3"]))
    assert hp["augment"]["erase"] == 0.3 and hp["augment"]["rotate"] == 10.0  # the rest of the recipe stays


def test_train_resume_and_load(folder_data, tmp_path):
    out = run_path(tmp_path, "run")
    best = main(train_args(folder_data, out, "--epochs", "2"))
    last = out.parent / "cnn.last.pt"
    assert out.is_file() and last.is_file()
    assert 0 <= best["val_accuracy"] <= 1 and best["epoch"] in (0, 1)

    state = load_checkpoint(last)
    assert state["train_state"]["epoch"] == 1
    assert [row["epoch"] for row in state["train_state"]["history"]] == [0, 1]
    best_ckpt = load_checkpoint(out)
    assert best_ckpt["arch"] == "cnn" and best_ckpt["metrics"]["n_val"] == 14
    assert len(best_ckpt["metrics"]["val_per_class"]) == 7

    main(train_args(folder_data, out, "--epochs", "3", "--resume", str(last)))
    resumed = load_checkpoint(last)["train_state"]
    assert resumed["epoch"] == 2
    assert [row["epoch"] for row in resumed["history"]] == [0, 1, 2]
    assert resumed["history"][:2] == state["train_state"]["history"]  # earlier epochs are not rerun

    clf = EmotionClassifier.load(str(out), device="cpu")
    probs = clf.predict(np.random.default_rng(0).integers(0, 256, (4, 48, 48), dtype=np.uint8))
    assert probs.shape == (4, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_resume_continues_exactly(folder_data, tmp_path):
    straight = run_path(tmp_path, "straight")
    main(train_args(folder_data, straight, "--epochs", "3"))

    split = run_path(tmp_path, "split")
    main(train_args(folder_data, split, "--epochs", "2"))
    main(train_args(folder_data, split, "--epochs", "3", "--resume", str(split.with_suffix(".last.pt"))))

    a = load_checkpoint(straight.with_suffix(".last.pt"))
    b = load_checkpoint(split.with_suffix(".last.pt"))
    for key, tensor in a["state_dict"].items():
        assert torch.equal(tensor, b["state_dict"][key]), key
    losses = [row["train_loss"] for row in a["train_state"]["history"]]
    assert losses == [row["train_loss"] for row in b["train_state"]["history"]]


def test_resume_with_cosine_schedule(folder_data, tmp_path):
    out = run_path(tmp_path, "cos")
    main(train_args(folder_data, out, "--epochs", "1", "--scheduler", "cosine", "--limit", "7"))
    main(
        train_args(
            folder_data,
            out,
            "--epochs",
            "2",
            "--scheduler",
            "cosine",
            "--limit",
            "7",
            "--resume",
            str(out.with_suffix(".last.pt")),
        )
    )
    assert len(load_checkpoint(out.with_suffix(".last.pt"))["train_state"]["history"]) == 2


def test_train_on_csv_with_limit(tmp_path):
    fer_csv = small_fer_csv(tmp_path / "fer2013.csv")
    out = tmp_path / "csvrun" / "model.pt"
    best = main(train_args(fer_csv, out, "--epochs", "1", "--limit", "5"))
    assert out.is_file() and (out.parent / "model.last.pt").is_file()
    assert best["epoch"] == 0
    assert load_checkpoint(out)["metrics"]["n_val"] == 2


@pytest.mark.parametrize("amp", ["on", "off"])
def test_amp_trains_and_keeps_float32_weights(folder_data, tmp_path, amp):
    out = run_path(tmp_path, amp)
    best = main(train_args(folder_data, out, "--epochs", "1", "--amp", amp))
    assert 0 <= best["val_accuracy"] <= 1
    weights = load_checkpoint(out)["state_dict"]
    assert all(t.dtype == torch.float32 for t in weights.values() if t.is_floating_point())
    assert all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())


def test_init_starts_from_a_checkpoints_weights_with_a_fresh_schedule(folder_data, tmp_path):
    first = run_path(tmp_path, "first")
    main(train_args(folder_data, first, "--epochs", "1"))
    again = run_path(tmp_path, "again")
    main(train_args(folder_data, again, "--epochs", "1", "--init", str(first), "--lr", "0"))
    state = load_checkpoint(again.with_suffix(".last.pt"))["train_state"]
    assert [row["epoch"] for row in state["history"]] == [0]  # a new run, counted from its own first epoch
    start = load_checkpoint(first)["state_dict"]
    after = load_checkpoint(again.with_suffix(".last.pt"))["state_dict"]
    weights = [k for k in start if k.endswith("weight")]
    assert weights and all(torch.equal(start[k], after[k]) for k in weights)  # lr 0: still the first run's


def test_init_refuses_another_architecture(folder_data, tmp_path):
    first = run_path(tmp_path, "first")
    main(train_args(folder_data, first, "--epochs", "1"))
    with pytest.raises(UsageError, match="holds a 'cnn' model"):
        main(
            parse_args(
                ["--model", "vit", "--data", str(folder_data), "--init", str(first), "--out", str(tmp_path / "v.pt")]
            )
        )


def test_erase_blanks_one_rectangle_in_the_chosen_share_of_faces():
    faces = torch.full((400, 48, 48), 7, dtype=torch.uint8)
    out = augment(faces, AugmentConfig(hflip=False, erase=0.5), torch.Generator().manual_seed(0))
    blanked = (out == 128).flatten(1).sum(1)
    assert out.dtype == torch.uint8 and out.shape == faces.shape
    assert 0.4 < (blanked > 0).float().mean() < 0.6  # about half the faces
    share = blanked[blanked > 0].float() / (48 * 48)
    assert share.min() >= 0.01 and share.max() <= 0.25  # 2-20% of the face, give or take rounding
    assert ((out == 7) | (out == 128)).all()  # nothing else changes


def test_ema_keeps_the_averaged_weights(folder_data, tmp_path):
    runs = {}
    for decay in ("0", "0.9"):
        out = run_path(tmp_path, decay)
        main(train_args(folder_data, out, "--epochs", "1", "--ema", decay))
        runs[decay] = load_checkpoint(out), load_checkpoint(out.with_suffix(".last.pt"))
    for decay, (kept, last) in runs.items():
        assert kept["hp"]["ema"] == float(decay)
        averaged = {k.removeprefix("module."): t for k, t in last["train_state"]["ema"].items() if k != "n_averaged"}
        assert all(torch.equal(t, averaged[k]) for k, t in kept["state_dict"].items())  # the average is kept
    kept, last = runs["0"]  # decay 0 follows the weights and the batch-norm statistics exactly
    assert all(torch.equal(t, last["state_dict"][k]) for k, t in kept["state_dict"].items())
    kept, last = runs["0.9"]
    assert any(not torch.equal(t, last["state_dict"][k]) for k, t in kept["state_dict"].items())


def test_ema_resumes_exactly(folder_data, tmp_path):
    straight, split = run_path(tmp_path, "straight"), run_path(tmp_path, "split")
    main(train_args(folder_data, straight, "--epochs", "2", "--ema", "0.9"))
    main(train_args(folder_data, split, "--epochs", "1", "--ema", "0.9"))
    main(train_args(folder_data, split, "--epochs", "2", "--resume", str(split.with_suffix(".last.pt"))))
    a = load_checkpoint(straight.with_suffix(".last.pt"))["train_state"]["ema"]
    b = load_checkpoint(split.with_suffix(".last.pt"))["train_state"]["ema"]
    assert a.keys() == b.keys() and all(torch.equal(t, b[k]) for k, t in a.items())


@pytest.mark.parametrize("decay", ["1", "-0.1"])
def test_ema_decay_must_be_a_fraction(tmp_path, decay):
    with pytest.raises(UsageError, match="--ema"):
        settings(parse_args(["--data", str(tmp_path), "--ema", decay]))


def test_config_shapes_the_new_model_and_its_checkpoint(folder_data, tmp_path):
    assert model_config(["width=8", "dropout=0.5", "tag=wide"]) == {"width": 8, "dropout": 0.5, "tag": "wide"}
    out = run_path(tmp_path, "narrow")
    main(train_args(folder_data, out, "--model", "fernet", "--epochs", "1", "--config", "width=4"))
    ckpt = load_checkpoint(out)
    assert ckpt["config"]["width"] == 4 and ckpt["state_dict"]["stages.0.0.conv.weight"].shape[0] == 4
    assert EmotionClassifier.load(str(out), device="cpu").predict(batch(2).numpy()).shape == (2, 7)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--config", "width"], "KEY=VALUE"),
        (["--config", "widht=4"], "widht"),
        (["--init", "x.pt", "--config", "width=4"], "--init"),
    ],
)
def test_config_mistakes_are_usage_errors(folder_data, tmp_path, extra, message):
    args = train_args(folder_data, run_path(tmp_path, "bad"), "--model", "fernet", "--epochs", "1", *extra)
    with pytest.raises(UsageError, match=message):
        main(args)
