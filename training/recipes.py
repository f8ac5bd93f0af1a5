"""Per-model training defaults; command-line flags override any of them."""

from __future__ import annotations

from dataclasses import dataclass, field

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


RECIPES: dict[str, Recipe] = {
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


def recipe_for(model: str) -> Recipe:
    """The model's recipe, or the generic one."""
    return RECIPES.get(model, Recipe())
