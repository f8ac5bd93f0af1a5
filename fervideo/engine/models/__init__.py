"""The model zoo: importing this package registers every model."""

from fervideo.core.choices import DEFAULT_MODEL
from fervideo.engine.models import cnn, vgg, vit, vit_b16  # noqa: F401  (registering imports)
from fervideo.engine.models.registry import ModelEntry, create_model, get_entry, list_models, register

__all__ = ["DEFAULT_MODEL", "ModelEntry", "create_model", "get_entry", "list_models", "register"]
