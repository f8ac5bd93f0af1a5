"""Per-model training defaults; command-line flags override any of them."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace

from fervideo.core.errors import UsageError
from training.augment import AugmentConfig


@dataclass(frozen=True)
class Recipe:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adamw"  # adam | adamw | sgd
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    scheduler: str = "cosine"  # none | cosine
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    freeze: str = "none"  # none | head | last:K, for models with a pretrained backbone


RECIPES: dict[str, Recipe] = {
    # The project's default: SGD with Nesterov momentum, cosine decay, label smoothing, and shifts,
    # small rotations and mirror images (never upside down: those faces do not occur in video).
    "fernet": Recipe(
        epochs=40,
        batch_size=64,
        lr=0.05,
        optimizer="sgd",
        weight_decay=5e-4,
        label_smoothing=0.1,
        scheduler="cosine",
        augment=AugmentConfig(hflip=True, crop_pad=4, rotate=10.0),
    ),
    # The study's protocol: 10 epochs of Adam at 1e-4, batch 32, random horizontal and vertical flips.
    "cnn": Recipe(
        epochs=10,
        batch_size=32,
        lr=1e-4,
        optimizer="adam",
        weight_decay=0.0,
        scheduler="none",
        augment=AugmentConfig(hflip=True, vflip=True),
    ),
}
# The default for real faces: fernet's recipe, with FER+ votes as targets (so no label smoothing) and the
# camera's exposure, focus, noise and resolution drawn on top of the geometric augmentation.
RECIPES["fernet_plus"] = replace(
    RECIPES["fernet"],
    label_smoothing=0.0,
    augment=AugmentConfig(
        hflip=True,
        crop_pad=4,
        rotate=10.0,
        erase=0.25,
        contrast=0.6,
        brightness=40,
        gamma=0.5,
        blur=0.3,
        noise=8.0,
        lowres=0.25,
    ),
)
RECIPES["fernet_lite"] = RECIPES["fernet_plus"]  # the same targets and faces, at half the channels
# fernet_plus's faces and augmentation; its run adds --ferplus, --mix 0.5 and --select balanced (docs/models.md)
RECIPES["fernet_balanced"] = RECIPES["fernet_plus"]
RECIPES["vit"] = RECIPES["cnn"]  # the study trained its shallow ViT with exactly the CNN's protocol
# The study fine-tuned only the head of the ImageNet ViT-B/16, otherwise with its protocol; a linear head on
# frozen features takes a larger step than training from scratch. With --freeze last:K pass --lr 1e-4.
RECIPES["vit_b16"] = replace(RECIPES["cnn"], lr=1e-3, freeze="head")


def recipe_for(model: str) -> Recipe:
    """The model's recipe, or the generic one."""
    return RECIPES.get(model, Recipe())


def model_config(pairs: list[str]) -> dict:
    """--config KEY=VALUE overrides of an architecture's config; a value is a Python literal or a string."""
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"--config {pair!r}: expected KEY=VALUE, such as width=48")
        try:
            config[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            config[key] = value
    return config
