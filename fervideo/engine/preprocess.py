"""The one conversion from 48x48 grey faces to model input, used by training and inference alike."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from fervideo.core.errors import ModelError
from fervideo.engine.crop import FACE_SIZE

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


def prepare(faces: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """Grey faces (N, S, S), uint8 or float in [0, 1], to normalised float32 model input (N, C, size, size).

    NumPy only, so that inference needs no torch; training passes its augmented batches through it too
    (torch.from_numpy on the result), which keeps what the model sees in training and in use alike.
    """
    x = np.asarray(faces)
    x = x.astype(np.float32) / 255 if x.dtype == np.uint8 else x.astype(np.float32)  # (N, S, S), a copy
    if spec.normalize == "equalize":
        x = equalize(x)
    if x.shape[1:] != (spec.input_size, spec.input_size):
        x = resize(x, spec.input_size)
    mean = np.asarray(spec.mean, np.float32).reshape(1, -1, 1, 1)  # (1, 1|C, 1, 1)
    std = np.asarray(spec.std, np.float32).reshape(1, -1, 1, 1)
    x = (x[:, None] - mean) / std  # (N, 1|C, size, size), a new array
    return x if x.shape[1] == spec.channels else np.repeat(x, spec.channels, axis=1)  # (N, C, size, size)


def equalize(x: np.ndarray) -> np.ndarray:
    """Per-image histogram equalisation of (N, H, W) in [0, 1] onto mid-ranks: each level maps to the share
    of the face's pixels below it plus half of its own, so a flat face spreads to the whole range."""
    n, h, w = x.shape
    levels = np.clip(np.rint(x.reshape(n, h * w) * 255), 0, 255).astype(np.intp)  # (N, HW)
    offsets = 256 * np.arange(n)[:, None]  # one bincount for the whole batch: image i's levels at 256 i + level
    hist = np.bincount((levels + offsets).ravel(), minlength=256 * n).reshape(n, 256)  # (N, 256)
    mid = (np.cumsum(hist, axis=1) - hist / 2) / (h * w)  # (N, 256) in (0, 1)
    return np.take_along_axis(mid, levels, axis=1).reshape(n, h, w).astype(np.float32)


def resize(x: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W) float32 to (N, size, size): bilinear, antialiased when shrinking, pixel centres aligned.

    The same weights as torch's interpolate(mode="bilinear", antialias=True, align_corners=False), which the
    shipped models were trained with: a triangle filter widened by the shrink factor (as PIL's), applied
    along each axis as a matrix.
    """
    rows, cols = _weights(x.shape[1], size), _weights(x.shape[2], size)  # (size, H), (size, W)
    return np.einsum("oh,nhw,pw->nop", rows, x, cols, optimize=True).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) interpolation weights, each row summing to 1."""
    scale = n_in / n_out
    support = max(scale, 1.0)  # the triangle's half-width in input pixels
    centres = scale * (np.arange(n_out) + 0.5)  # (n_out,)
    taps = np.arange(n_in) + 0.5  # (n_in,) input pixel centres
    weights = np.clip(1 - np.abs(taps[None, :] - centres[:, None]) / support, 0, None)  # (n_out, n_in)
    return weights / weights.sum(axis=1, keepdims=True)
