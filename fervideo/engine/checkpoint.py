"""Self-describing checkpoints: loading one rebuilds the model and its preprocessing, nothing else needed."""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from fervideo.core.atomic import AtomicOutput, prepare_out_dir
from fervideo.core.errors import ModelError, one_line
from fervideo.core.labels import EMOTIONS
from fervideo.engine.models import create_model, get_entry
from fervideo.engine.onnx_file import read_onnx
from fervideo.engine.onnx_model import DESCRIPTION_KEY, parse_description
from fervideo.engine.preprocess import PreprocessSpec

FORMAT = "fervideo-checkpoint/1"
# what an exported ONNX description hands on to a rebuilt checkpoint (the rest describes the export itself)
FROM_ONNX = ("arch", "config", "preprocess", "classes", "metrics", "hp", "temperature")
FOREIGN_HINT = "pass a .pt file written by 'python -m training.train' or a model name from 'fervideo models'"
WEIGHTS_DIR = Path(__file__).parents[1] / "weights"


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    arch: str,
    preprocess: PreprocessSpec,
    metrics: dict | None = None,
    half: bool = False,
    **extra: object,
) -> None:
    """Write model, architecture, config, preprocessing, class order and metrics atomically to path."""
    store = torch.float16 if half else torch.float32  # half: a shipped file at half the size; loading widens it
    payload = {
        "format": FORMAT,
        "arch": arch,
        "config": asdict(model.config),
        "preprocess": preprocess.to_dict(),
        "classes": list(EMOTIONS),
        "metrics": metrics or {},
        "state_dict": {
            k: v.detach().cpu().to(store) if v.is_floating_point() else v.detach().cpu()
            for k, v in _unwrap(model).state_dict().items()
        },
        **extra,
    }
    path = Path(path)
    prepare_out_dir(path.parent)  # a folder that cannot be made is an OutputError naming it, not an OSError
    with AtomicOutput(path) as out:
        torch.save(payload, out.tmp)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint with weights_only loading, so a foreign pickle can never run code; .onnx: rebuild one."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder; pass the checkpoint file (.pt) itself")
    if not path.is_file():
        raise ModelError(f"{path}: no such checkpoint file")
    if path.suffix == ".onnx":
        return checkpoint_from_onnx(path)
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols; the library stays quiet
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # garbage makes torch.load raise nearly anything (KeyError, IndexError, ...)
        raise ModelError(f"{path}: not a fervideo checkpoint ({type(exc).__name__}); {FOREIGN_HINT}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: not a fervideo checkpoint (no {FORMAT!r} marker); {FOREIGN_HINT}")
    return payload


def checkpoint_from_onnx(path: Path) -> dict:
    """The checkpoint an exported float ONNX file was made from: its description and its weights in float32."""
    metadata, tensors = read_onnx(path)
    description = parse_description(path, metadata.get(DESCRIPTION_KEY))
    if description["precision"] != "fp32":  # quantised weights and folded batch norm: no state_dict to take back
        float_file = path.with_name(path.name.split(".")[0] + ".onnx")
        raise ModelError(f"{path}: holds {description['precision']} weights; pass the float file {float_file}")
    state = {}
    for name, array in tensors.items():
        key = name.removesuffix(".f16")  # training.export keeps float16 weights with a Cast to float32 after them
        tensor = torch.from_numpy(array)
        state[key] = tensor.float() if tensor.is_floating_point() else tensor
        if key.endswith(".running_var"):  # ONNX's BatchNormalization has no step counter; eval never reads it
            state[key.removesuffix("running_var") + "num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    kept = {k: description[k] for k in FROM_ONNX if k in description}
    return kept | {"format": FORMAT, "state_dict": state, "rebuilt_from": path.name}


def build_model(payload: dict) -> tuple[nn.Module, PreprocessSpec]:
    """Rebuild the model with its weights and its preprocessing from a loaded checkpoint."""
    missing = {"arch", "config", "preprocess", "classes", "state_dict"} - payload.keys()
    if missing:
        raise ModelError(f"checkpoint lacks {', '.join(sorted(missing))}")
    arch = payload["arch"]
    tables = ("config", "preprocess", "state_dict")
    if not isinstance(arch, str) or not all(isinstance(payload[k], dict) for k in tables):
        raise ModelError("checkpoint fields have the wrong types; it was not written by fervideo")
    if not isinstance(payload["classes"], (list, tuple)) or tuple(payload["classes"]) != EMOTIONS:
        raise ModelError(f"checkpoint classes {payload['classes']} differ from FER2013's {list(EMOTIONS)}")
    get_entry(arch)  # a clear error for an architecture this version does not know
    spec = _preprocess_spec(payload["preprocess"])
    try:
        model = create_model(arch, **payload["config"])
    except (TypeError, ValueError) as exc:
        raise ModelError(f"checkpoint config does not fit architecture {arch!r}: {one_line(exc)}") from exc
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ModelError(f"checkpoint weights do not fit architecture {arch!r}: {one_line(exc)}") from exc
    return model.eval(), spec


def resolve(name_or_path: str) -> Path:
    """A checkpoint path for a registered model name or a path to a checkpoint file."""
    candidate = Path(name_or_path)
    # a path: load_checkpoint says what is wrong with it (a bare name that is also a folder is the model)
    if candidate.suffix in (".pt", ".pth") or candidate.is_file() or os.sep in name_or_path:
        return candidate
    shipped = shipped_weights(name_or_path)
    if shipped is None:
        raise ModelError(
            f"model {name_or_path!r} ships no weights; train it with "
            f"'python -m training.train --model {name_or_path} --data DIR --out {name_or_path}.pt' "
            f"and pass --model {name_or_path}.pt"
        )
    return shipped


def shipped_weights(name: str) -> Path | None:
    """A registered model's shipped checkpoint: its .pt, else its float ONNX file (the wheel has no .pt), else None."""
    weights = get_entry(name).weights
    if weights is None:
        return None
    # the ONNX file holds the same weights (the .pt's float16 ones exactly) and the same description
    return next((p for p in (WEIGHTS_DIR / weights, (WEIGHTS_DIR / weights).with_suffix(".onnx")) if p.is_file()), None)


def _preprocess_spec(data: dict) -> PreprocessSpec:
    """The checkpoint's preprocessing, checked here so that bad values never reach prepare() mid-video."""
    try:
        spec = PreprocessSpec.from_dict(data)
        stats = [v for name in ("mean", "std") for v in _values(getattr(spec, name))]
        valid = (
            all(isinstance(v, int) and v >= 1 for v in (spec.input_size, spec.face_size))
            and spec.channels in (1, 3)
            and all(math.isfinite(v) for v in stats)
            and all(v != 0 for v in _values(spec.std))
        )
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ModelError(f"checkpoint preprocessing {data} is not valid (sizes >= 1, 1 or 3 channels, std != 0)")
    return spec


def _values(stat: float | tuple[float, ...]) -> tuple[float, ...]:
    return tuple(float(v) for v in stat) if isinstance(stat, tuple) else (float(stat),)


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "_orig_mod", model)  # torch.compile wraps the module
