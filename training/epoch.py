"""One epoch of training and one pass of evaluation: the two steps training.train repeats."""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from fervideo.data.dataset import Split
from fervideo.data.metrics import confusion_matrix, report
from fervideo.engine.preprocess import PreprocessSpec
from fervideo.engine.torch_model import model_input
from training.augment import AugmentConfig, augment
from training.targets import epoch_order


def train_one_epoch(
    model: nn.Module,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: Split,
    spec: PreprocessSpec,
    hp: dict,
    device: torch.device,
    generator: torch.Generator,
    amp: bool = False,
    teacher: torch.Tensor | None = None,
    ema: AveragedModel | None = None,
) -> float:
    """One pass over shuffled training data; returns the mean training loss."""
    model.train()
    images = torch.as_tensor(data.images).to(device)
    labels = torch.as_tensor(data.labels if data.soft is None else data.soft).to(device)  # (N,) or (N, 7)
    order = epoch_order(data.labels, hp.get("oversample", 0.0), generator).to(device)
    aug = AugmentConfig(**hp["augment"])
    total, seen = torch.zeros((), device=device), 0  # summed on the device: .item() per step would wait for it
    for start in range(0, len(order), hp["batch_size"]):
        idx = order[start : start + hp["batch_size"]]
        x = model_input(augment(images[idx], aug, generator), spec, device)  # (B, C, S, S)
        if amp:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = model(x)
            loss = criterion(out, labels[idx]) if teacher is None else criterion(out, labels[idx], teacher[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update_parameters(model)
        total += loss.detach() * len(idx)
        seen += len(idx)
    return total.item() / seen


@torch.inference_mode()
def evaluate(
    model: nn.Module, criterion: nn.Module, data: Split, spec: PreprocessSpec, device: torch.device, amp: bool = False
) -> dict:
    """Loss, accuracy, per-class table and confusion matrix on a held-out split."""
    model.eval()
    logits = []
    for start in range(0, len(data), 512):
        x = model_input(data.images[start : start + 512], spec, device)
        if amp:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits.append(model(x).float().cpu())
    logits = torch.cat(logits)
    labels = torch.as_tensor(data.labels)
    rep = report(confusion_matrix(data.labels, logits.argmax(1).numpy()))
    rep["loss"] = float(criterion(logits, labels))
    return rep
