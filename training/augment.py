"""Batch augmentation on (B, 48, 48) uint8 face tensors, on whatever device the batch lives on."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    hflip: bool = True
    vflip: bool = False  # the study used it; upside-down faces never occur in video
    crop_pad: int = 0  # random-crop after padding by this many pixels
    rotate: float = 0.0  # max degrees
    erase: float = 0.0  # probability of blanking one random rectangle (random erasing), against overfitting
    erase_area: tuple[float, float] = (0.02, 0.2)  # its share of the face, drawn uniformly


def augment(faces: torch.Tensor, config: AugmentConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly flipped, shifted and rotated copies of a uint8 batch (B, H, W)."""
    batch, height, width = faces.shape
    x = faces
    if config.hflip:
        flip = torch.rand(batch, generator=generator, device="cpu").to(x.device) < 0.5
        x = torch.where(flip[:, None, None], x.flip(-1), x)
    if config.vflip:
        flip = torch.rand(batch, generator=generator, device="cpu").to(x.device) < 0.5
        x = torch.where(flip[:, None, None], x.flip(-2), x)
    if config.crop_pad or config.rotate:
        x = _affine(x, config, generator)
    if config.erase:
        x = _erase(x, config, generator)
    return x


def _erase(x: torch.Tensor, config: AugmentConfig, generator: torch.Generator | None) -> torch.Tensor:
    """Blank one rectangle (aspect 1/2 to 2) in a random subset of the faces with mid grey."""
    batch, height, width = x.shape
    u = torch.rand(batch, 5, generator=generator)  # use, area, aspect, top, left
    lo, hi = config.erase_area
    area = (lo + (hi - lo) * u[:, 1]) * height * width
    aspect = torch.exp((u[:, 2] * 2 - 1) * torch.log(torch.tensor(2.0)))
    h = torch.sqrt(area * aspect).clamp(1, height).long()
    w = torch.sqrt(area / aspect).clamp(1, width).long()
    top = (u[:, 3] * (height - h + 1)).long()
    left = (u[:, 4] * (width - w + 1)).long()
    rows = torch.arange(height)[None, :, None]
    cols = torch.arange(width)[None, None, :]
    in_rows = (rows >= top[:, None, None]) & (rows < (top + h)[:, None, None])  # (B, H, 1)
    in_cols = (cols >= left[:, None, None]) & (cols < (left + w)[:, None, None])  # (B, 1, W)
    inside = in_rows & in_cols & (u[:, 0] < config.erase)[:, None, None]  # (B, H, W)
    return x.masked_fill(inside.to(x.device), 128)


def _affine(x: torch.Tensor, config: AugmentConfig, generator: torch.Generator | None) -> torch.Tensor:
    """One grid_sample for shift and rotation together; borders replicate the edge."""
    batch, height, width = x.shape
    angle = (torch.rand(batch, generator=generator) * 2 - 1) * torch.deg2rad(torch.tensor(config.rotate))
    shift = (torch.rand(batch, 2, generator=generator) * 2 - 1) * (2 * config.crop_pad / width)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.device), (batch, 1, height, width), align_corners=False)
    out = F.grid_sample(x.unsqueeze(1).float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.squeeze(1).round_().clamp_(0, 255).to(torch.uint8)  # (B, H, W)
