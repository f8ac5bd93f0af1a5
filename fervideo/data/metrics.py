"""Classification metrics in the study's form: accuracy, per-class table, confusion matrix."""

from __future__ import annotations

import numpy as np

from fervideo.core.labels import EMOTIONS


def confusion_matrix(targets: np.ndarray, preds: np.ndarray, num_classes: int = len(EMOTIONS)) -> np.ndarray:
    """Counts (K, K): row is the true class, column the predicted one."""
    idx = np.asarray(targets, np.int64) * num_classes + np.asarray(preds, np.int64)
    return np.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def report(confusion: np.ndarray) -> dict:
    """accuracy, n, per_class {class: {correct, total, accuracy}} and the confusion matrix as lists.

    A class with no faces has accuracy None: 0% would read as a class the model never gets right.
    """
    correct = np.diag(confusion)
    totals = confusion.sum(axis=1)
    per_class = {
        name: {"correct": int(c), "total": int(t), "accuracy": float(c / t) if t else None}
        for name, c, t in zip(EMOTIONS, correct, totals, strict=True)
    }
    n = int(confusion.sum())
    return {
        "accuracy": float(correct.sum() / n) if n else 0.0,
        "n": n,
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def macro_accuracy(rep: dict) -> float:
    """The mean of the per-class accuracies over the classes present: a majority-class guess scores 1 / K."""
    rows = [row["accuracy"] for row in rep["per_class"].values() if row["total"]]
    return float(np.mean(rows)) if rows else 0.0


def per_class_lines(rep: dict) -> list[str]:
    """The study's table: 'Angry: 10% (54/491)' per class, 'Disgust: - (0/0)' for a class with no faces."""
    return [
        f"{name.capitalize()}: {'-' if row['accuracy'] is None else format(row['accuracy'], '.0%')} "
        f"({row['correct']}/{row['total']})"
        for name, row in rep["per_class"].items()
    ]
