"""The one conversion from 48x48 grey faces to model input, used by training and inference alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from fervideo.crop import FACE_SIZE
from fervideo.errors import ModelError

# none: pixels as they come (FER2013's faces are already contrast-normalised); equalize: each face's own
# histogram is flattened first, so that a dim, flat video crop reaches the model with the statistics of a
# FER2013 face (mean ~0.5, std ~0.29) and training and inference see faces alike
NORMALIZATIONS = ("none", "equalize")


@dataclass(frozen=True)
class PreprocessSpec:
    input_size: int = 48  # side the model sees
    channels: int = 1  # 3 repeats the grey channel, for ImageNet backbones
    mean: float | tuple[float, ...] = 0.5  # one value for every channel, or one per channel
    std: float | tuple[float, ...] = 0.5
    face_size: int = FACE_SIZE  # side of the grey crop, as in FER2013
    normalize: str = "none"  # one of NORMALIZATIONS

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZATIONS:
            raise ModelError(f"preprocess normalize {self.normalize!r} is not one of {', '.join(NORMALIZATIONS)}")
        for name in ("mean", "std"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                if len(value) != self.channels:
                    raise ModelError(f"preprocess {name} has {len(value)} values for {self.channels} channels")
                object.__setattr__(self, name, tuple(float(v) for v in value))  # lists come from checkpoints

    def to_dict(self) -> dict:
        """Plain dict for a checkpoint; per-channel tuples become lists."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> PreprocessSpec:
        """Rebuild from a checkpoint's dict."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def prepare(faces: np.ndarray | torch.Tensor, spec: PreprocessSpec, device: torch.device | str = "cpu") -> torch.Tensor:
    """Grey faces (N, S, S), uint8 or float in [0, 1], to normalised model input (N, C, size, size)."""
    x = torch.as_tensor(faces).to(device)
    if x.dtype == torch.uint8:
        x = x.float().div_(255)
    x = x.float().unsqueeze(1)  # (N, 1, S, S)
    if spec.normalize == "equalize":
        x = equalize(x)
    if x.shape[-1] != spec.input_size or x.shape[-2] != spec.input_size:
        x = F.interpolate(
            x, size=(spec.input_size, spec.input_size), mode="bilinear", antialias=True, align_corners=False
        )
    mean = torch.as_tensor(spec.mean, dtype=torch.float32, device=x.device).reshape(1, -1, 1, 1)  # (1, 1|C, 1, 1)
    std = torch.as_tensor(spec.std, dtype=torch.float32, device=x.device).reshape(1, -1, 1, 1)
    x = (x.expand(-1, spec.channels, -1, -1) - mean) / std  # (N, C, size, size)
    return x.contiguous()


def equalize(x: torch.Tensor) -> torch.Tensor:
    """Per-image histogram equalisation of (N, 1, H, W) in [0, 1] onto mid-ranks: each level maps to the share
    of the face's pixels below it plus half of its own, so a flat face spreads to the whole range."""
    n, _, h, w = x.shape
    levels = (x.reshape(n, h * w) * 255).round_().clamp_(0, 255).long()  # (N, HW)
    hist = torch.zeros(n, 256, device=x.device).scatter_add_(1, levels, torch.ones_like(levels, dtype=torch.float))
    mid = (hist.cumsum(1) - hist / 2) / (h * w)  # (N, 256) in (0, 1)
    return mid.gather(1, levels).reshape(n, 1, h, w)
