"""Whether a model's probabilities mean what they say: expected calibration error and temperature scaling."""

from __future__ import annotations

import numpy as np

from fervideo.core.errors import ModelError

ECE_BINS = 15


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their share of the faces."""
    if len(labels) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)  # (N,) bin of each face
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of logits (N, K) / temperature, in float64."""
    z = np.asarray(logits, np.float64) / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of labels (Guo et al., 2017)."""

    def nll(t: float) -> float:
        return float(-np.log(softmax(logits, t)[np.arange(len(labels)), labels] + 1e-12).mean())

    lo, hi = np.log(0.05), np.log(20.0)  # golden-section search on log T: the NLL is unimodal in T
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    for _ in range(60):
        if nll(np.exp(a)) < nll(np.exp(b)):
            hi, b = b, a
            a = hi - ratio * (hi - lo)
        else:
            lo, a = a, b
            b = lo + ratio * (hi - lo)
    return float(np.exp((lo + hi) / 2))


def checked_temperature(value: object, where: str) -> float:
    """A stored temperature as a float, or a ModelError naming where it came from."""
    if not isinstance(value, (int, float)) or not 0 < value < 100:
        raise ModelError(f"{where}: temperature {value!r} is not a positive number")
    return float(value)
