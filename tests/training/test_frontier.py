"""training.frontier: the per-class bias search meets floors where they can be met and shows where they cannot."""

import numpy as np
import pytest

from tests.helpers import run_path, train_args, write_votes
from training.frontier import best_fer2013, best_ferplus, log_softmax, main, scored
from training.train import main as train


def leaning(labels: np.ndarray, toward: int, seed: int = 0) -> np.ndarray:
    """Log-probs (N, 3) that put each face's own class second, just under class `toward`, with a little noise."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 0.05, (len(labels), 3))
    logits[np.arange(len(labels)), labels] += 1.0
    logits[labels != toward, toward] += 1.5
    return log_softmax(logits)


def test_log_softmax_rows_are_distributions():
    z = log_softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]))
    assert np.allclose(np.exp(z).sum(axis=1), 1.0) and np.isfinite(z).all()


def test_scored_counts_accuracy_lowest_recall_and_ferplus():
    log_p = np.log(np.array([[0.8, 0.2], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]))
    s = scored((log_p, np.array([0, 0, 1, 1])), (log_p, np.array([0, 1, 1, 1])), np.zeros(2))
    assert s.fer2013 == 0.75 and s.min_recall == 0.5 and s.ferplus == 0.5
    nudged = scored((log_p, np.array([0, 0, 1, 1])), (log_p, np.array([0, 1, 1, 1])), np.array([0.0, 1.0]))
    assert nudged.fer2013 == 1.0 and nudged.min_recall == 1.0 and nudged.ferplus == 0.75  # only the 0.6 face moves
    lifted = scored((log_p, np.array([0, 0, 1, 1])), (log_p, np.array([0, 1, 1, 1])), np.array([0.0, 2.0]))
    assert lifted.fer2013 == 0.5 and lifted.min_recall == 0.0 and lifted.ferplus == 0.75  # everything says 1 now


def test_a_bias_lifts_a_suppressed_class_over_its_floors():
    labels = np.repeat([0, 1, 2], 100)
    log_p = leaning(labels, toward=0)  # plain argmax says 0 for everything: recall 0 for classes 1 and 2
    assert scored((log_p, labels), (log_p, labels), np.zeros(3)).min_recall == 0.0
    s = best_ferplus((log_p, labels), (log_p, labels), min_accuracy=0.9, min_recall=0.9)
    assert s.fer2013 >= 0.9 and s.min_recall >= 0.9 and s.ferplus >= 0.9


def test_label_sets_that_contradict_cap_each_other():
    labels = np.repeat([0, 1, 2], 100)
    logits = np.random.default_rng(1).normal(0, 0.05, (300, 3))
    logits[np.arange(300), labels] += 1.0
    logits[labels == 2, 1] += 0.8  # a class-2 face looks a little like class 1 too
    log_p = log_softmax(logits)
    crowd = np.where(labels == 2, 1, labels)  # the second label set reads every class-2 face as class 1
    s = best_ferplus((log_p, labels), (log_p, crowd), min_accuracy=0.9, min_recall=0.9)
    assert s.fer2013 >= 0.9 and s.ferplus <= 0.7  # at most the two classes they share plus what floors leave
    r = best_fer2013((log_p, labels), (log_p, crowd), min_ferplus=0.95)
    # 85 of the 100 class-2 faces must say 1: class 2 keeps at most 15
    assert r.ferplus >= 0.95 and r.fer2013 <= 215 / 300 and r.min_recall <= 0.15


def test_main_tables_every_ensemble(folder_data, tmp_path, capsys):
    checkpoints = []
    for seed in ("0", "1"):
        out = run_path(tmp_path, f"cnn{seed}")
        train(train_args(folder_data, out, "--epochs", "1", "--seed", seed))
        checkpoints.append(str(out))
    votes = write_votes(tmp_path / "ferplus.csv", folder_data)
    rows = main(["--checkpoint", *checkpoints, "--data", str(folder_data), "--labels", str(votes)])
    assert [r["members"] for r in rows] == [checkpoints[:1], checkpoints[1:], checkpoints]  # both named cnn.pt
    for row in rows:
        for figures in (row["fer2013_floor"], row["ferplus_floor"]):
            assert all(0.0 <= figures[k] <= 1.0 for k in ("fer2013", "min_recall", "ferplus"))
    assert not rows[0]["ferplus_floor"]["held"]  # one epoch on 14 faces: nowhere near 87%
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| ensemble |") and len(table) == 2 + len(rows)


@pytest.mark.parametrize("flag", ["--min-accuracy", "--min-recall", "--min-ferplus"])
def test_floors_outside_zero_to_one_are_refused(flag, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(tmp_path / "x.pt"), "--data", str(tmp_path), "--labels", "v.csv", flag, "1.5"])
    assert flag in capsys.readouterr().err
