"""training: FER2013 readers, batch augmentation and a tiny end-to-end training run with resume."""

import csv

import cv2
import numpy as np
import pytest
import torch

from fervideo.checkpoint import load_checkpoint
from fervideo.classifier import EmotionClassifier
from fervideo.labels import EMOTIONS
from training.augment import AugmentConfig, augment
from training.data import load_split
from training.train import main, parse_args, settings

# --- tiny data sets written by the tests ---------------------------------------------------------


def face(label, index):
    """A 48x48 face whose grey level encodes its class and index, so the tests can tell them apart."""
    return np.full((48, 48), 10 * label + index, np.uint8)


def write_fer_csv(path, rows):
    """rows: (emotion, usage, image)"""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["emotion", "pixels", "Usage"])
        for emotion, usage, image in rows:
            writer.writerow([emotion, " ".join(str(v) for v in image.reshape(-1)), usage])
    return path


@pytest.fixture
def fer_csv(tmp_path):
    rows = [(label, "Training", face(label, 1)) for label in range(7)]
    rows += [(3, "PublicTest", face(3, 2)), (5, "PublicTest", face(5, 2))]
    rows += [(6, "PrivateTest", face(6, 3))]
    return write_fer_csv(tmp_path / "fer2013.csv", rows)


def write_folder(root, per_class=None, seed=0):
    """Kaggle layout: ROOT/<split>/<class>/*.png|jpg; per_class maps split to images per class."""
    per_class = per_class or {"train": 3, "val": 1}
    rng = np.random.default_rng(seed)
    for split, count in per_class.items():
        for label, name in enumerate(EMOTIONS):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                image = np.clip(rng.normal(40 + 25 * label, 20, (48, 48)), 0, 255).astype(np.uint8)
                suffix = ".png" if i % 2 == 0 else ".jpg"
                assert cv2.imwrite(str(folder / f"{i}{suffix}"), image)
    return root


# --- training.data -------------------------------------------------------------------------------


def test_csv_splits(fer_csv, tmp_path):
    cache = tmp_path / "cache"
    train = load_split(fer_csv, "train", cache_dir=cache)
    assert len(train) == 7
    assert train.images.shape == (7, 48, 48) and train.images.dtype == np.uint8
    assert train.labels.dtype == np.int64 and train.labels.tolist() == list(range(7))
    np.testing.assert_array_equal(train.images[4], face(4, 1))
    val = load_split(fer_csv, "val", cache_dir=cache)
    assert val.labels.tolist() == [3, 5]
    np.testing.assert_array_equal(val.images[1], face(5, 2))
    test = load_split(fer_csv, "test", cache_dir=cache)
    assert test.labels.tolist() == [6]


def test_csv_found_in_folder(fer_csv, tmp_path):
    val = load_split(fer_csv.parent, "val", cache_dir=tmp_path / "cache")
    assert val.labels.tolist() == [3, 5]


def test_csv_cache_is_used(fer_csv, tmp_path):
    cache = tmp_path / "cache"
    first = load_split(fer_csv, "train", cache_dir=cache)
    cached = list(cache.glob("*.npz"))
    assert len(cached) == 1 and "train" in cached[0].name
    again = load_split(fer_csv, "train", cache_dir=cache)
    np.testing.assert_array_equal(again.images, first.images)
    np.testing.assert_array_equal(again.labels, first.labels)
    assert list(cache.glob("*.tmp*")) == []


def test_csv_bad_rows(tmp_path):
    short = write_fer_csv(tmp_path / "short.csv", [(0, "Training", np.zeros(100, np.uint8))])
    with pytest.raises(ValueError, match="2304"):
        load_split(short, "train", cache_dir=tmp_path / "cache")
    only_train = write_fer_csv(tmp_path / "train_only.csv", [(0, "Training", face(0, 0))])
    with pytest.raises(ValueError, match="PublicTest"):
        load_split(only_train, "val", cache_dir=tmp_path / "cache")


def test_folder_splits(tmp_path):
    root = write_folder(tmp_path / "fer", {"train": 3, "val": 2})
    train = load_split(root, "train", cache_dir=tmp_path / "cache")
    assert train.images.shape == (21, 48, 48) and train.images.dtype == np.uint8
    assert train.labels.tolist() == [label for label in range(7) for _ in range(3)]
    # class folders are read in label order: the class brightness rises with the label
    means = [train.images[train.labels == label].mean() for label in range(7)]
    assert means == sorted(means)
    val = load_split(root, "val", cache_dir=tmp_path / "cache")
    assert len(val) == 14


def test_folder_resizes_and_skips_other_files(tmp_path):
    root = tmp_path / "fer"
    folder = root / "train" / "happy"
    folder.mkdir(parents=True)
    assert cv2.imwrite(str(folder / "big.png"), np.full((96, 96), 200, np.uint8))
    (folder / "notes.txt").write_text("not an image")
    split = load_split(root, "train", cache_dir=tmp_path / "cache")
    assert split.images.shape == (1, 48, 48)
    assert split.labels.tolist() == [EMOTIONS.index("happy")]
    assert split.images[0].min() == 200


def test_folder_cache_follows_changes(tmp_path):
    root = write_folder(tmp_path / "fer", {"train": 1})
    cache = tmp_path / "cache"
    assert len(load_split(root, "train", cache_dir=cache)) == 7
    assert cv2.imwrite(str(root / "train" / "sad" / "extra.png"), np.zeros((48, 48), np.uint8))
    assert len(load_split(root, "train", cache_dir=cache)) == 8


def test_missing_split_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_split(tmp_path / "nothing", "train", cache_dir=tmp_path / "cache")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError):
        load_split(tmp_path / "empty", "train", cache_dir=tmp_path / "cache")


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


@pytest.fixture(scope="module")
def folder_data(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("fer"), {"train": 4, "val": 2})


def train_args(data, out, *extra):
    fixed = ["--model", "cnn", "--device", "cpu", "--batch-size", "8", "--cache-dir", str(out.parent / "cache")]
    return parse_args([*fixed, "--data", str(data), "--out", str(out), *extra])


def test_settings_apply_flags_over_recipe(tmp_path):
    hp = settings(parse_args(["--data", str(tmp_path), "--lr", "0.5", "--epochs", "2"]))
    assert hp["lr"] == 0.5 and hp["epochs"] == 2
    assert hp["optimizer"] == "adam" and hp["batch_size"] == 32  # from the cnn recipe


def test_train_resume_and_load(folder_data, tmp_path):
    out = tmp_path / "run" / "cnn.pt"
    out.parent.mkdir()
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
    straight = tmp_path / "straight" / "cnn.pt"
    straight.parent.mkdir()
    main(train_args(folder_data, straight, "--epochs", "3"))

    split = tmp_path / "split" / "cnn.pt"
    split.parent.mkdir()
    main(train_args(folder_data, split, "--epochs", "2"))
    main(train_args(folder_data, split, "--epochs", "3", "--resume", str(split.with_suffix(".last.pt"))))

    a = load_checkpoint(straight.with_suffix(".last.pt"))
    b = load_checkpoint(split.with_suffix(".last.pt"))
    for key, tensor in a["state_dict"].items():
        assert torch.equal(tensor, b["state_dict"][key]), key
    losses = [row["train_loss"] for row in a["train_state"]["history"]]
    assert losses == [row["train_loss"] for row in b["train_state"]["history"]]


def test_resume_with_cosine_schedule(folder_data, tmp_path):
    out = tmp_path / "cos" / "cnn.pt"
    out.parent.mkdir()
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


def test_train_on_csv_with_limit(fer_csv, tmp_path):
    out = tmp_path / "csvrun" / "model.pt"
    best = main(train_args(fer_csv, out, "--epochs", "1", "--limit", "5"))
    assert out.is_file() and (out.parent / "model.last.pt").is_file()
    assert best["epoch"] == 0
    assert load_checkpoint(out)["metrics"]["n_val"] == 2
