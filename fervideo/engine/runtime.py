"""Which runtime runs a model: ONNX Runtime for the shipped models, torch for everything else.

The shipped models sit in fervideo/weights/ as NAME.pt (the torch checkpoint), NAME.onnx (the same weights
for ONNX Runtime) and, where quantising kept the accuracy, NAME.int8.onnx. Choosing one needs no torch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from fervideo.core.choices import RUNTIMES, TORCH_HINT
from fervideo.core.errors import ModelError, UsageError
from fervideo.engine.onnx_model import CUDA, available, providers
from fervideo.engine.preprocess import PreprocessSpec

WEIGHTS_DIR = Path(__file__).parents[1] / "weights"
# The classifier's share of the cores, once use_threads() asked for one; until then ONNX sessions take one
# thread and torch keeps the process's setting (a model load must not take a training run's cores away).
_threads: dict[str, int | None] = {"n": None}


class Runtime(Protocol):
    """What the classifier needs of a runtime."""

    runtime: str
    precision: str

    def logits(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Choice:
    runtime: str  # onnx | torch
    path: Path  # the file to load
    device: str  # auto | cpu | cuda (torch resolves auto itself)


def use_threads(threads: int) -> None:
    """The classifier's threads in this process, for sessions opened from now on (and torch's, if loaded)."""
    _threads["n"] = max(1, threads)
    if "torch" in sys.modules:  # never imported just to be told how many threads to use
        from fervideo.engine.torch_model import set_threads

        set_threads(_threads["n"])


def choose(name_or_path: str, device: str = "auto", precision: str = "auto", runtime: str = "auto") -> Choice:
    """The runtime and file for a model name or path, from the options and what is installed."""
    if runtime not in RUNTIMES:
        raise UsageError(f"unknown runtime {runtime!r}; use {', '.join(RUNTIMES)}")
    path = Path(name_or_path)
    if path.suffix == ".onnx":
        if runtime == "torch":
            raise UsageError(f"{path} is an ONNX file; --runtime torch needs a .pt checkpoint")
        if precision == "bf16":
            raise UsageError(f"{path} is an ONNX file; --precision bf16 runs on torch, with a .pt checkpoint")
        return Choice("onnx", path, _onnx_device(device))
    if path.suffix in (".pt", ".pth") or path.is_file() or os.sep in name_or_path:
        if runtime == "onnx":
            if not path.is_file():  # nothing to export: say so, as load_checkpoint would
                raise ModelError(f"{path}: no such checkpoint file")
            raise UsageError(f"{path} is a torch checkpoint; export it with 'python -m training.export --onnx'")
        return _torch(path, device, precision)
    if runtime == "onnx" and precision == "bf16":  # no ONNX file is bf16: not a missing file, a wrong pairing
        raise UsageError("--precision bf16 runs on torch only; use --runtime torch (or auto), or another --precision")
    onnx = _shipped_onnx(name_or_path, precision)
    if onnx is None and precision == "int8":
        twins = ", ".join(_onnx_names("*.int8.onnx"))
        raise UsageError(f"model {name_or_path!r} ships no int8 file (int8: {twins}); use --precision auto or fp32")
    if runtime == "onnx" or (runtime == "auto" and _onnx_fits(onnx, device, precision)):
        if onnx is None:
            raise UsageError(f"model {name_or_path!r} has no float32 ONNX file; use --runtime torch")
        return Choice("onnx", onnx, _onnx_device(device))
    return _torch(_shipped_pt(name_or_path), device, precision)


def open_runtime(choice: Choice, precision: str = "auto") -> tuple[Runtime, PreprocessSpec, dict, float]:
    """Load the chosen file: (runtime, preprocessing spec, description, temperature)."""
    if choice.runtime == "onnx":
        from fervideo.engine.onnx_model import load_onnx

        return load_onnx(choice.path, choice.device, _threads["n"] or 1)
    try:
        from fervideo.engine.torch_model import load_torch
    except ImportError:  # a lean install without torch
        raise UsageError(f"{choice.path} needs torch, which is not installed: {TORCH_HINT}") from None
    if (asked := _threads["n"]) is not None:  # asked for before torch was imported
        use_threads(asked)
    return load_torch(choice.path, choice.device, precision)


def _torch(path: Path, device: str, precision: str) -> Choice:
    if precision == "int8":
        raise UsageError("--precision int8 runs on ONNX Runtime only; use --runtime onnx with a shipped model")
    return Choice("torch", path, device)


def _shipped_onnx(name: str, precision: str) -> Path | None:
    """The shipped ONNX file of a model for a precision: auto prefers int8 where it ships."""
    if precision == "bf16":
        return None
    names = {"auto": [f"{name}.int8.onnx", f"{name}.onnx"], "int8": [f"{name}.int8.onnx"]}
    for file in names.get(precision, [f"{name}.onnx"]):
        if (WEIGHTS_DIR / file).is_file():
            return WEIGHTS_DIR / file
    return None


def _shipped_pt(name: str) -> Path:
    """The checkpoint of a registered model; the registry knows the names and says how to train one."""
    try:
        from fervideo.engine.checkpoint import resolve
    except ImportError:  # a lean install: only the ONNX files can run
        shipped = ", ".join(_onnx_names("*.onnx"))
        raise ModelError(f"model {name!r} needs torch, which is not installed; ONNX models: {shipped}") from None
    return resolve(name)


def _onnx_names(pattern: str) -> list[str]:
    """The models with a shipped ONNX file matching pattern, sorted."""
    from fervideo.engine.landmarks import MEDIAPIPE_FILES  # the face detector, mesh and iris: no emotion models

    return sorted({p.name.split(".")[0] for p in WEIGHTS_DIR.glob(pattern) if p.name not in MEDIAPIPE_FILES})


def _onnx_fits(onnx: Path | None, device: str, precision: str) -> bool:
    """auto: ONNX when the file exists, ONNX Runtime is installed and it runs on the device asked for."""
    if onnx is None or precision == "bf16" or not available():
        return False
    if device == "cuda" or (device == "auto" and _gpu_present() and torch_installed()):
        return CUDA in providers()  # else torch's CUDA does the work
    return True  # a lean install on a GPU machine: ONNX on the CPU rather than an error about torch


def _onnx_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"unknown device {device!r}; use auto, cpu or cuda")
    if device == "auto":
        return "cuda" if available() and CUDA in providers() else "cpu"
    return device


def _gpu_present() -> bool:
    """An NVIDIA driver on this machine, seen without importing torch."""
    return Path("/proc/driver/nvidia/version").exists()


def torch_installed() -> bool:
    """Whether torch could be imported, found without importing it."""
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # a finder that refuses it
        return False


def use_cores(cores: int | None = None) -> int:
    """Give the classifier one thread fewer than the cores analysing a video (default: all); returns how many.

    The detector thread keeps one core busy; a classifier that also wanted it waited at every parallel
    region (fernet, 640x360 on 2 cores: 151 frames/s with 2 torch threads, 193 with 1, --no-video).
    """
    threads = max(1, (cores or os.cpu_count() or 1) - 1)
    use_threads(threads)
    return threads
