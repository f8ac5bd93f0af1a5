"""Self-describing checkpoints: loading one rebuilds the model and its preprocessing, nothing else needed."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import zipfile
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from fervideo.errors import ModelError
from fervideo.labels import EMOTIONS
from fervideo.models import create_model, get_entry
from fervideo.preprocess import PreprocessSpec

FORMAT = "fervideo-checkpoint/1"
WEIGHTS_DIR = Path(__file__).parent / "weights"


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    arch: str,
    preprocess: PreprocessSpec,
    metrics: dict | None = None,
    **extra: object,
) -> None:
    """Write model, architecture, config, preprocessing, class order and metrics atomically to path."""
    payload = {
        "format": FORMAT,
        "arch": arch,
        "config": asdict(model.config),
        "preprocess": preprocess.to_dict(),
        "classes": list(EMOTIONS),
        "metrics": metrics or {},
        "state_dict": {k: v.detach().cpu() for k, v in _unwrap(model).state_dict().items()},
        **extra,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is meant to be shared
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint with weights_only loading, so a foreign pickle can never run code."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, OSError) as exc:
        raise ModelError(f"{path}: not a fervideo checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: not a fervideo checkpoint (no {FORMAT!r} marker)")
    return payload


def build_model(payload: dict) -> tuple[nn.Module, PreprocessSpec]:
    """Rebuild the model with its weights and its preprocessing from a loaded checkpoint."""
    missing = {"arch", "config", "preprocess", "classes", "state_dict"} - payload.keys()
    if missing:
        raise ModelError(f"checkpoint lacks {', '.join(sorted(missing))}")
    if tuple(payload["classes"]) != EMOTIONS:
        raise ModelError(f"checkpoint classes {payload['classes']} differ from FER2013's {list(EMOTIONS)}")
    get_entry(payload["arch"])  # a clear error for an architecture this version does not know
    model = create_model(payload["arch"], **payload["config"])
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise ModelError(f"checkpoint weights do not fit architecture {payload['arch']!r}: {exc}") from None
    return model.eval(), PreprocessSpec.from_dict(payload["preprocess"])


def resolve(name_or_path: str) -> Path:
    """A checkpoint path for a registered model name or a path to a checkpoint file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".pt", ".pth") or candidate.exists():
        return candidate
    entry = get_entry(name_or_path)
    if entry.weights is None or not (WEIGHTS_DIR / entry.weights).is_file():
        raise ModelError(
            f"model {name_or_path!r} ships no weights; train it with "
            f"'python -m training.train --model {name_or_path} --data DIR --out {name_or_path}.pt' "
            f"and pass --model {name_or_path}.pt"
        )
    return WEIGHTS_DIR / entry.weights


def sha256(path: str | Path) -> str:
    """Hex digest of a file, to pin exactly which weights produced a result."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "_orig_mod", model)  # torch.compile wraps the module
