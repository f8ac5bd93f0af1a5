"""Knowledge distillation: a student learns from trained checkpoints' soft predictions as well as the labels.

The teachers' predictions are computed once per run, with their test-time views, on the un-augmented
training faces; the student sees augmented copies of the same faces (mild shifts, rotations, mirrors and
erasing, which leave the emotion as it is) and is pulled toward those fixed targets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fervideo.classifier import EmotionClassifier


def soft_targets(teachers: list[str | Path], images: np.ndarray, device: str = "auto") -> torch.Tensor:
    """Log of the teachers' mean TTA probabilities (N, 7) for grey faces (N, 48, 48)."""
    assert teachers, "soft_targets needs at least one teacher"
    load = EmotionClassifier.load
    probs = sum(load(str(path), device=device).predict(images, batch_size=256, tta=True) for path in teachers)
    return torch.log(torch.as_tensor(probs / len(teachers), dtype=torch.float32).clamp_min(1e-8))


class DistillLoss(nn.Module):
    """alpha * T^2 * KL(teacher || student) at temperature T, plus (1 - alpha) * cross-entropy on the labels."""

    def __init__(self, alpha: float, temperature: float, label_smoothing: float = 0.0) -> None:
        super().__init__()
        assert 0.0 <= alpha <= 1.0 and temperature > 0
        self.alpha, self.temperature = alpha, temperature
        self.hard = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        student = F.log_softmax(logits.float() / t, dim=1)  # (B, 7)
        target = F.log_softmax(teacher / t, dim=1)  # (B, 7)
        # T^2 keeps the soft term's gradients on the scale of the hard term's as T changes (Hinton et al.)
        soft = F.kl_div(student, target, reduction="batchmean", log_target=True) * t * t
        return self.alpha * soft + (1 - self.alpha) * self.hard(logits, labels)
