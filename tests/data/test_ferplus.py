"""fervideo.data.ferplus: FER+ votes, the majority protocol, soft targets, and eval/train on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fervideo.cli import main
from fervideo.core.errors import InputError
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import load_split, split_files
from fervideo.data.ferplus import VOTE_COLUMNS, majority_labels, majority_split, read_votes, soft_targets, vote_matrix
from tests.conftest import shared_path
from tests.helpers import write_folder, write_votes


def votes(**counts: int) -> np.ndarray:
    """One image's 10 FER+ vote counts from keyword counts."""
    return np.array([counts.get(name, 0) for name in VOTE_COLUMNS], np.float32)


@pytest.mark.parametrize(
    ("row", "label"),
    [
        (votes(happiness=6, neutral=4), EMOTIONS.index("happy")),
        (votes(anger=5, disgust=5), -1),  # a tie is no majority
        (votes(fear=5, sadness=3, neutral=1, happiness=1), EMOTIONS.index("fear")),  # the ones dropped: 5 of 8
        (votes(fear=4, sadness=4, neutral=2), -1),
        (votes(contempt=8, anger=2), -1),  # contempt has no FER2013 class
        (votes(NF=10), -1),
        (votes(unknown=6, surprise=4), -1),
        (np.full(10, np.nan, np.float32), -1),  # an image FER+ left unnamed
    ],
)
def test_majority_protocol(row, label):
    assert majority_labels(row[None])[0] == label


def test_soft_targets_are_the_seven_class_vote_shares_or_the_folder_label():
    rows = np.stack([votes(happiness=6, neutral=2, contempt=2), votes(NF=10), np.full(10, np.nan, np.float32)])
    targets = soft_targets(rows, np.array([0, 4, 5]))
    np.testing.assert_allclose(targets.sum(axis=1), 1.0)
    assert targets[0, EMOTIONS.index("happy")] == pytest.approx(0.75) and targets[0, EMOTIONS.index("neutral")] == 0.25
    assert targets[1].argmax() == 4 and targets[1].max() == 1.0  # no vote for a FER2013 class: the folder's label
    assert targets[2].argmax() == 5 and targets[2].max() == 1.0


def test_majority_split_follows_the_votes(tmp_path):
    data = write_folder(tmp_path / "fer", {"val": 3})
    faces = load_split(data, "val", tmp_path / "cache")
    relabelled = majority_split(data, "val", faces, write_votes(tmp_path / "votes.csv", data))
    assert len(relabelled) == len(faces)
    neutral = EMOTIONS.index("neutral")
    expected = sum(1 for i in range(len(faces)) if i % 3 == 0 or faces.labels[i] == neutral)
    assert (relabelled.labels == neutral).sum() == expected
    assert not np.array_equal(relabelled.labels, faces.labels)


def test_votes_of_another_dataset_are_refused(tmp_path):
    data = write_folder(tmp_path / "fer", {"val": 2})
    path = tmp_path / "votes.csv"
    path.write_text("file," + ",".join(VOTE_COLUMNS) + "\nval/angry/elsewhere.jpg," + ",".join(["1"] * 10) + "\n")
    with pytest.raises(InputError, match="name only 0 of 14"):
        vote_matrix(read_votes(path), split_files(data, "val"))
    with pytest.raises(InputError, match="name only 0 of 1"):  # one image: half of it rounded down was 0
        vote_matrix(read_votes(path), ["val/happy/one.jpg"])
    votes = tmp_path / "unscored.csv"  # every image named, none with a majority among the 7 classes
    rows = "".join(f"{name}," + ",".join(["0"] * 8 + ["10", "0"]) + "\n" for name in split_files(data, "val"))
    votes.write_text("file," + ",".join(VOTE_COLUMNS) + "\n" + rows)
    with pytest.raises(InputError, match="none of the 14 images of val has a FER\\+ majority label"):
        majority_split(data, "val", load_split(data, "val", tmp_path / "cache"), votes)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a FER\\+ votes file"):
        read_votes(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="no such FER\\+ votes file"):
        read_votes(tmp_path / "none.csv")


def test_eval_with_ferplus_labels(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FERVIDEO_CACHE", str(tmp_path / "cache"))
    data = write_folder(tmp_path / "fer", {"val": 3})
    votes_csv = write_votes(tmp_path / "votes.csv", data)
    argv = ["eval", "--data", str(data), "--model", "cnn", "--device", "cpu", "--json"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*argv, "--labels", str(votes_csv)]) == 0
    relabelled = json.loads(capsys.readouterr().out)
    assert plain["labels"] == "fer2013" and relabelled["labels"] == "ferplus-majority"
    assert relabelled["n"] == plain["n"] == 21
    assert relabelled["per_class"]["neutral"]["total"] == 9  # 7 of every 21 faces say neutral, plus its own 2
    assert 0 <= relabelled["ece"] <= 1 and 0 <= relabelled["macro_accuracy"] <= 1


def test_ferplus_of_the_shared_data_matches_its_readme():
    """The shared copy's votes: every image named, and the majority agrees with the folder for about 63%."""
    data = shared_path("fer2013")
    table = read_votes(shared_path("fer2013", "ferplus.csv"))
    files = split_files(data, "train")
    matrix = vote_matrix(table, files)
    assert len(matrix) == 28709 and np.isnan(matrix[:, 0]).sum() < 200
    folder = np.array([EMOTIONS.index(name.split("/")[1]) for name in files])
    labels = majority_labels(matrix)
    kept = labels >= 0
    assert 0.58 < (labels[kept] == folder[kept]).mean() < 0.70


def test_training_on_ferplus_votes_selects_on_their_majority_and_resumes(folder_data, tmp_path):
    from fervideo.core.errors import UsageError
    from fervideo.engine.checkpoint import load_checkpoint, save_checkpoint
    from fervideo.engine.models import create_model, get_entry
    from training.train import main as train
    from training.train import parse_args

    votes_csv = write_votes(tmp_path / "votes.csv", folder_data, ("train", "val"))
    start = tmp_path / "start.pt"
    save_checkpoint(start, create_model("fernet", width=8), "fernet", get_entry("fernet").preprocess)
    out = tmp_path / "run" / "plus.pt"
    fixed = ["--model", "fernet_plus", "--device", "cpu", "--batch-size", "8", "--cache-dir", str(tmp_path / "cache")]
    fixed += ["--data", str(folder_data), "--out", str(out)]
    best = train(parse_args([*fixed, "--ferplus", str(votes_csv), "--init", str(start), "--epochs", "1"]))
    assert best["val_labels"] == "ferplus-majority" and best["n_val"] == 14
    assert best["val_per_class"]["neutral"]["total"] == 6  # the votes' majority, not the folders
    resumed = train(parse_args([*fixed, "--resume", str(out.with_suffix(".last.pt")), "--epochs", "2"]))
    last = load_checkpoint(out.with_suffix(".last.pt"))["train_state"]
    assert last["epoch"] == 1 and last["hp"]["ferplus"] == str(votes_csv)  # resumed on the votes without the flag
    assert resumed["val_labels"] == "ferplus-majority"
    assert load_checkpoint(out)["preprocess"]["normalize"] == "equalize"
    cnn = tmp_path / "cnn.pt"
    save_checkpoint(cnn, create_model("cnn"), "cnn", get_entry("cnn").preprocess)
    with pytest.raises(UsageError, match="holds a 'cnn' model"):
        train(parse_args([*fixed, "--init", str(cnn), "--epochs", "1"]))


def test_a_pack_carries_the_votes_and_trains_on_them(folder_data, tmp_path):
    from fervideo.data.dataset import pack_votes
    from training.pack import main as pack
    from training.pack import parse_args
    from training.targets import ferplus_splits

    votes_csv = write_votes(tmp_path / "votes.csv", folder_data, ("train", "val"))
    out = tmp_path / "fer.npz.xz"
    pack(parse_args(["--data", str(folder_data), "--out", str(out), "--ferplus", str(votes_csv)]))
    table = read_votes(votes_csv)
    np.testing.assert_array_equal(pack_votes(out, "val"), vote_matrix(table, split_files(folder_data, "val")))
    train, val = (load_split(out, name) for name in ("train", "val"))
    from_pack = ferplus_splits(out, out, train, val)
    from_csv = ferplus_splits(folder_data, votes_csv, train, val)
    np.testing.assert_array_equal(from_pack[0].soft, from_csv[0].soft)
    np.testing.assert_array_equal(from_pack[1].labels, from_csv[1].labels)
    plain = tmp_path / "plain.npz"
    pack(parse_args(["--data", str(folder_data), "--out", str(plain)]))
    with pytest.raises(InputError, match="holds no 'train' FER\\+ votes"):
        ferplus_splits(plain, plain, train, val)


def test_the_shipped_models_on_the_shared_validation_split():
    """The default and fernet_lite on FER+ val (majority), fernet on FER2013's own labels, as the README says."""
    from fervideo.engine.models import DEFAULT_MODEL
    from fervideo.run.evaluation import evaluate_split

    data = shared_path("fer2013")
    plus = evaluate_split(data, model=DEFAULT_MODEL, device="cpu", precision="fp32", labels=data / "ferplus.csv")
    assert plus["n"] == 3186 and plus["accuracy"] >= 0.88 and plus["ece"] <= 0.03
    lite = evaluate_split(data, model="fernet_lite", device="cpu", precision="fp32", labels=data / "ferplus.csv")
    assert lite["accuracy"] >= 0.87 and lite["ece"] <= 0.03
    fernet = evaluate_split(data, model="fernet", device="cpu", precision="fp32")
    assert fernet["n"] == 3589 and fernet["accuracy"] >= 0.70
