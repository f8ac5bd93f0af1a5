"""fervideo.data.metrics: confusion matrix, accuracy report and the per-class table."""

import numpy as np
import pytest

from fervideo.core.labels import EMOTIONS
from fervideo.data.metrics import confusion_matrix, per_class_lines, report

# angry 1/2 right, happy 2/3 right, neutral 1/1 right; nothing else present
TARGETS = np.array([0, 0, 3, 3, 3, 6])
PREDS = np.array([0, 4, 3, 3, 0, 6])


def test_confusion_matrix():
    cm = confusion_matrix(TARGETS, PREDS)
    assert cm.shape == (7, 7)
    assert cm.sum() == 6
    assert cm[0, 0] == 1 and cm[0, 4] == 1  # true angry: once right, once called sad
    assert cm[3, 3] == 2 and cm[3, 0] == 1
    assert cm[6, 6] == 1
    assert np.count_nonzero(cm) == 5


def test_confusion_matrix_other_sizes():
    assert confusion_matrix([1, 0], [1, 1], num_classes=2).tolist() == [[0, 1], [0, 1]]
    assert confusion_matrix(np.array([], np.int64), np.array([], np.int64)).sum() == 0


def test_report():
    rep = report(confusion_matrix(TARGETS, PREDS))
    assert rep["n"] == 6
    assert rep["accuracy"] == pytest.approx(4 / 6)
    assert list(rep["per_class"]) == list(EMOTIONS)
    assert rep["per_class"]["angry"] == {"correct": 1, "total": 2, "accuracy": 0.5}
    assert rep["per_class"]["happy"]["accuracy"] == pytest.approx(2 / 3)
    assert rep["per_class"]["disgust"] == {"correct": 0, "total": 0, "accuracy": None}
    assert rep["confusion"][0][4] == 1 and isinstance(rep["confusion"], list)


def test_report_empty():
    rep = report(np.zeros((7, 7), np.int64))
    assert rep["accuracy"] == 0.0 and rep["n"] == 0


def test_per_class_lines():
    lines = per_class_lines(report(confusion_matrix(TARGETS, PREDS)))
    assert lines == [
        "Angry: 50% (1/2)",
        "Disgust: - (0/0)",
        "Fear: - (0/0)",
        "Happy: 67% (2/3)",
        "Sad: - (0/0)",
        "Surprise: - (0/0)",
        "Neutral: 100% (1/1)",
    ]
