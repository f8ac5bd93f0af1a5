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
    # Camera faces differ from FER2013's contrast-normalised JPEGs in exposure, gamma, focus, noise and
    # resolution; these draw such differences so that the model learns to ignore them.
    contrast: float = 0.0  # contrast factor drawn log-uniformly in [1/(1+c), 1+c], about each face's mean
    brightness: float = 0.0  # shift drawn in [-b, b] grey levels
    gamma: float = 0.0  # gamma drawn log-uniformly in [1/(1+g), 1+g]
    blur: float = 0.0  # probability of a Gaussian blur, sigma 0.4-1.4 px
    noise: float = 0.0  # Gaussian noise, its std drawn in [0, noise] grey levels
    lowres: float = 0.0  # probability of a down-and-up scaling through 16-36 px, as a small face in a frame


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
    if any((config.contrast, config.brightness, config.gamma, config.blur, config.noise, config.lowres)):
        x = _photometric(x, config, generator)
    if config.erase:
        x = _erase(x, config, generator)
    return x


def _photometric(x: torch.Tensor, config: AugmentConfig, generator: torch.Generator | None) -> torch.Tensor:
    """Exposure, gamma, focus, resolution and sensor noise drawn per face; (B, H, W) uint8 in and out."""
    batch, height, width = x.shape
    u = torch.rand(batch, 6, generator=generator).to(x.device)  # contrast, brightness, gamma, blur, noise, lowres
    y = x.float().div(255).unsqueeze(1)  # (B, 1, H, W)
    if config.lowres:
        side = int(16 + torch.randint(0, 21, (1,), generator=generator))  # one size per batch: one interpolate
        small = F.interpolate(y, size=(side, side), mode="area")
        back = F.interpolate(small, size=(height, width), mode="bilinear", align_corners=False)
        y = torch.where((u[:, 5] < config.lowres)[:, None, None, None], back, y)
    if config.blur:
        y = torch.where((u[:, 3] < config.blur)[:, None, None, None], _blur(y, 0.4 + u[:, 3] / config.blur), y)
    if config.contrast:
        factor = torch.exp((u[:, 0] * 2 - 1) * torch.log1p(torch.tensor(config.contrast)))[:, None, None, None]
        mean = y.mean(dim=(2, 3), keepdim=True)
        y = (y - mean) * factor + mean
    if config.brightness:
        y = y + ((u[:, 1] * 2 - 1) * config.brightness / 255)[:, None, None, None]
    if config.gamma:
        gamma = torch.exp((u[:, 2] * 2 - 1) * torch.log1p(torch.tensor(config.gamma)))[:, None, None, None]
        y = y.clamp(0, 1).pow(gamma)
    if config.noise:
        std = (u[:, 4] * config.noise / 255)[:, None, None, None]
        y = y + torch.randn(y.shape, generator=generator).to(x.device) * std
    return (y.squeeze(1) * 255).round_().clamp_(0, 255).to(torch.uint8)  # (B, H, W)


def _blur(y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of (B, 1, H, W) with one sigma (B,) per face, radius 2."""
    taps = torch.arange(-2, 3, device=y.device, dtype=torch.float32)  # (5,)
    kernel = torch.exp(-(taps[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # (B, 5)
    batch = y.shape[0]
    z = y.transpose(0, 1)  # (1, B, H, W): one group per face
    z = F.conv2d(F.pad(z, (2, 2, 0, 0), mode="replicate"), kernel[:, None, None, :], groups=batch)
    z = F.conv2d(F.pad(z, (0, 0, 2, 2), mode="replicate"), kernel[:, None, :, None], groups=batch)
    return z.transpose(0, 1)


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
