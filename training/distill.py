"""Knowledge distillation: a student learns from trained checkpoints' soft predictions as well as the labels.

The teachers' predictions are computed once (and cached), with their test-time views, on the un-augmented
training faces; the student sees augmented copies of the same faces (mild shifts, rotations, mirrors and
erasing, which leave the emotion as it is) and is pulled toward those fixed targets.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fervideo.core.atomic import write_bytes
from fervideo.engine.classifier import EmotionClassifier


def soft_targets(
    teachers: list[str | Path], images: np.ndarray, device: str = "auto", cache_dir: Path | None = None
) -> torch.Tensor:
    """Log of the teachers' mean TTA probabilities (N, 7) for grey faces (N, 48, 48), cached when asked."""
    assert teachers, "soft_targets needs at least one teacher"
    # Six views of 28k faces take minutes per teacher; the key covers the teachers' bytes and the faces'.
    key = hashlib.sha256(images.tobytes())
    for path in teachers:
        key.update(Path(path).read_bytes())
    cache = cache_dir / f"teachers-{key.hexdigest()[:12]}.npy" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        probs = np.load(cache)
    else:
        load = EmotionClassifier.load
        probs = sum(load(str(p), device=device).predict(images, batch_size=256, tta=True) for p in teachers)
        probs = (probs / len(teachers)).astype(np.float32)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            np.save(buffer, probs)
            write_bytes(cache, buffer.getvalue())
    return torch.log(torch.as_tensor(probs).clamp_min(1e-8))


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
