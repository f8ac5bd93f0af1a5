"""The model zoo: importing this package registers every model."""

from fervideo.models import cnn, vgg  # noqa: F401  (registering imports)
from fervideo.models.registry import ModelEntry, create_model, get_entry, list_models, register

DEFAULT_MODEL = "cnn"

__all__ = ["DEFAULT_MODEL", "ModelEntry", "create_model", "get_entry", "list_models", "register"]
