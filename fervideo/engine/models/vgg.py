"""FerNet: a VGG-style CNN for 48x48 grey faces, the project's own default-model family.

Four stages of two 3x3 conv-BN-ReLU layers, max-pooling between stages, global average pooling,
dropout and one linear layer. Width doubles per stage; `width` scales the whole net, and `channels`, when
given, sets every layer's width instead (a pruned net, training/prune.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from fervideo.engine.models.registry import register
from fervideo.engine.preprocess import PreprocessSpec


@dataclass
class FerNetConfig:
    in_channels: int = 1
    num_classes: int = 7
    width: int = 32  # channels of the first stage; 32 -> 32, 64, 128, 256
    stages: int = 4
    dropout: float = 0.3
    channels: list[int] | None = None  # output channels of each conv, two per stage; overrides width


def layer_widths(config: FerNetConfig) -> list[int]:
    """Output channels of each conv layer, stage by stage."""
    if config.channels is not None:
        if len(config.channels) != 2 * config.stages or min(config.channels) < 1:
            raise ValueError(f"channels {config.channels}: give {2 * config.stages} positive widths")
        return [int(c) for c in config.channels]
    return [config.width * 2**i for i in range(config.stages) for _ in range(2)]


class ConvBlock(nn.Module):
    """3x3 conv, batch norm, ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class FerNet(nn.Module):
    """The VGG-style classifier."""

    def __init__(self, config: FerNetConfig) -> None:
        super().__init__()
        self.config = config
        widths = layer_widths(config)
        self.stages = nn.ModuleList()
        c_in = config.in_channels
        for c_mid, c_out in zip(widths[::2], widths[1::2], strict=True):
            self.stages.append(nn.Sequential(ConvBlock(c_in, c_mid), ConvBlock(c_mid, c_out)))
            c_in = c_out
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(c_in, config.num_classes)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at the end of each stage (for the forward-pass pictures)."""
        maps = []
        for i, stage in enumerate(self.stages):
            x = stage(x if i == 0 else self.pool(x))  # (B, w * 2^i, 48 / 2^i, 48 / 2^i)
            maps.append(x)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)[-1]  # x: (B, 1, 48, 48) -> (B, C, 6, 6), C = 8w unpruned
        x = x.mean(dim=(2, 3))  # (B, C)
        return self.head(self.dropout(x))  # (B, 7)


@register(
    "fernet",
    preprocess=PreprocessSpec(input_size=48, channels=1, mean=0.5, std=0.25),
    description="the project's VGG-style CNN, 48x48 grey",
    weights="fernet.pt",
)
def fernet(**config: object) -> FerNet:
    """The project's VGG-style CNN."""
    return FerNet(FerNetConfig(**config))


# the real-face models' input: each face histogram-equalised to a FER2013 face's statistics
EQUALISED = PreprocessSpec(input_size=48, channels=1, mean=0.5, std=0.25, normalize="equalize")


@register(
    "fernet_plus",
    preprocess=EQUALISED,
    description="fernet on FER+ crowd votes, faces equalised: for real faces",
    weights="fernet_plus.pt",
)
def fernet_plus(**config: object) -> FerNet:
    """fernet's architecture, for FER+ targets and equalised faces."""
    return FerNet(FerNetConfig(**config))


@register(
    "fernet_balanced",
    preprocess=EQUALISED,
    description="fernet_plus tuned on FER2013's posed labels and FER+ votes together, corrected for the class prior: "
    "says angry, fear, disgust and sad more often",
    weights="fernet_balanced.pt",
)
def fernet_balanced(**config: object) -> FerNet:
    """fernet's architecture, for mixed folder/FER+ targets and equalised faces, logit-adjusted at export."""
    return FerNet(FerNetConfig(**config))


# three quarters of fernet_plus's channels (its first two layers' 36 rounded down to 32), about half its operations
LITE_CHANNELS = [32, 32, 72, 72, 144, 144, 288, 288]


@register(
    "fernet_lite",
    preprocess=EQUALISED,
    description="fernet_plus pruned to three quarters of its channels, distilled from it: fast",
    weights="fernet_lite.pt",
)
def fernet_lite(**config: object) -> FerNet:
    """fernet_plus's strongest channels (training/prune.py --keep 0.75), for slow machines and live use."""
    return FerNet(FerNetConfig(**({"channels": LITE_CHANNELS} | config)))
