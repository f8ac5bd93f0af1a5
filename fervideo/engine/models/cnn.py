"""The study's small LeNet-style CNN: two 5x5 convolutions and three linear layers on 32x32 grey faces."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from fervideo.engine.models.registry import register
from fervideo.engine.preprocess import PreprocessSpec


@dataclass
class CNNConfig:
    in_channels: int = 1
    num_classes: int = 7
    input_size: int = 32


class SmallCNN(nn.Module):
    """conv 1->6 5x5, maxpool, conv 6->16 5x5, maxpool, fc 400-120-84-7, ReLU between."""

    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        self.config = config
        self.conv1 = nn.Conv2d(config.in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2)
        side = ((config.input_size - 4) // 2 - 4) // 2  # 5 at 32x32, giving the study's 400 features
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, config.num_classes)
        self.act = nn.ReLU()

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps after each conv layer (for the forward-pass pictures)."""
        c1 = self.act(self.conv1(x))  # (B, 6, 28, 28)
        c2 = self.act(self.conv2(self.pool(c1)))  # (B, 16, 10, 10)
        return [c1, c2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, c2 = self.features(x)  # x: (B, 1, 32, 32)
        x = self.pool(c2).flatten(1)  # (B, 400)
        x = self.act(self.fc1(x))  # (B, 120)
        x = self.act(self.fc2(x))  # (B, 84)
        return self.fc3(x)  # (B, 7)


@register(
    "cnn",
    preprocess=PreprocessSpec(input_size=32, channels=1, mean=0.5, std=0.5),
    description="the study's LeNet-style CNN, 32x32 grey",
    weights="cnn.pt",
)
def cnn(**config: object) -> SmallCNN:
    """The study's small CNN."""
    return SmallCNN(CNNConfig(**config))
