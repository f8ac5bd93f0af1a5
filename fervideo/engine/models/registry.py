"""The model registry: a name maps to a builder, its preprocessing and, when shipped, its weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from fervideo.core.errors import ModelError
from fervideo.engine.preprocess import PreprocessSpec


@dataclass(frozen=True)
class ModelEntry:
    name: str
    build: Callable[..., nn.Module]  # keyword config -> model
    preprocess: PreprocessSpec
    description: str
    weights: str | None = None  # file in fervideo/weights/, when the project ships one
    # (model, path or None) -> None: loads a backbone's pretrained weights into a freshly built model
    pretrained: Callable[..., None] | None = None
    test_config: dict = field(default_factory=dict, hash=False)  # overrides that make a big model tiny for tests


_REGISTRY: dict[str, ModelEntry] = {}


def register(
    name: str,
    *,
    preprocess: PreprocessSpec,
    description: str,
    weights: str | None = None,
    pretrained: Callable[..., None] | None = None,
    test_config: dict | None = None,
) -> Callable:
    """Decorator that registers a model builder under a name."""

    def wrap(build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        assert name not in _REGISTRY, f"model {name!r} registered twice"
        _REGISTRY[name] = ModelEntry(name, build, preprocess, description, weights, pretrained, test_config or {})
        return build

    return wrap


def get_entry(name: str) -> ModelEntry:
    """The registry entry for a name, or a ModelError listing the known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))}") from None


def create_model(name: str, **config: object) -> nn.Module:
    """Build a registered model with random weights; config overrides its defaults."""
    return get_entry(name).build(**config)


def list_models() -> list[ModelEntry]:
    """All registered models, sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
