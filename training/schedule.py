"""The optimiser, its learning-rate schedule, and how many epochs fit in a time budget."""

from __future__ import annotations

import math

import torch
from torch import nn

from fervideo.engine.torch_model import native_bf16


def make_optimizer(model: nn.Module, hp: dict) -> torch.optim.Optimizer:
    """The optimiser the recipe names, over the parameters left trainable."""
    params = [p for p in model.parameters() if p.requires_grad]
    if hp["optimizer"] == "sgd":
        return torch.optim.SGD(params, hp["lr"], momentum=0.9, nesterov=True, weight_decay=hp["weight_decay"])
    cls = torch.optim.Adam if hp["optimizer"] == "adam" else torch.optim.AdamW
    return cls(params, hp["lr"], weight_decay=hp["weight_decay"])


def make_scheduler(optimizer: torch.optim.Optimizer, hp: dict) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay to zero over hp["epochs"], read at every step, or a constant rate."""
    if hp["scheduler"] == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda epoch: 0.5 * (1 + math.cos(math.pi * min(epoch, hp["epochs"]) / hp["epochs"]))
        )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


def fit_epochs(planned: int, done: int, seconds_per_epoch: float, seconds_left: float) -> int:
    """The planned epoch count, cut to what fits in the seconds left (never fewer than done, nor more than planned)."""
    more = math.floor(0.97 * seconds_left / seconds_per_epoch)  # a little slack for the last checkpoint
    return max(done, min(planned, done + more))


def use_amp(mode: str, device: torch.device) -> bool:
    """Whether to train in bf16 autocast: asked for, or auto where the hardware does bf16 natively."""
    return native_bf16(device) if mode == "auto" else mode == "on"
