"""The ONNX runtime: a shipped model run by ONNX Runtime, with no torch in the process.

An exported file (training.export --onnx) carries the checkpoint's description in its metadata under
DESCRIPTION_KEY: architecture, config, preprocessing, class order, temperature, metrics and precision.
session() opens the sessions of the classifiers and of mediapipe's face models (blazeface.py, landmarks.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fervideo.core.errors import ModelError, UsageError, one_line
from fervideo.core.labels import EMOTIONS
from fervideo.core.signals import deferred
from fervideo.engine.calibration import checked_temperature
from fervideo.engine.preprocess import PreprocessSpec

DESCRIPTION_KEY = "fervideo"
FORMAT = "fervideo-onnx/1"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def available() -> bool:
    """Whether ONNX Runtime can be imported here."""
    try:
        with deferred():
            import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def providers() -> list[str]:
    """ONNX Runtime's execution providers in this install (CUDA only with onnxruntime-gpu)."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def session(path: Path, device: str = "cpu", threads: int = 1) -> object:
    """An ONNX Runtime InferenceSession for the file at path; one it cannot read is a ModelError."""
    try:
        import onnxruntime
    except ImportError:
        raise ModelError("ONNX Runtime, which runs fervideo's models, is missing: pip install onnxruntime") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # the library stays quiet: no graph-optimisation chatter on stderr
    chosen = [CUDA, CPU] if device == "cuda" else [CPU]
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=chosen)
    except Exception as exc:  # ONNX Runtime raises its own untyped errors for anything it cannot read
        raise ModelError(f"{path}: not an ONNX model ONNX Runtime can run ({one_line(exc)[:300]})") from exc


class OnnxModel:
    """An ONNX Runtime session behind the runtime interface: logits() takes and returns NumPy arrays."""

    runtime = "onnx"

    def __init__(self, path: Path, device: str = "cpu", threads: int = 1, described: bool = True) -> None:
        self.session = session(path, device, threads)
        self.device = device
        self.input = self.session.get_inputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        # described=False: a bare graph, as training.export measures before it writes the description
        self.description = parse_description(path, meta.get(DESCRIPTION_KEY)) if described else {}
        self.precision = self.description.get("precision", "fp32")

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Float32 logits (B, 7) for prepared input (B, C, S, S)."""
        return self.session.run(None, {self.input: np.ascontiguousarray(x, np.float32)})[0]


def parse_description(path: Path, text: str | None) -> dict:
    """The checked description an exported file carries; a file without one is not fervideo's."""
    if text is None:
        raise ModelError(f"{path}: an ONNX file without fervideo's description; export it with training.export --onnx")
    try:
        description = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: its fervideo description is not JSON ({exc})") from exc
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise ModelError(f"{path}: not a {FORMAT} file; export it again with training.export --onnx")
    if tuple(description.get("classes", ())) != EMOTIONS:
        raise ModelError(f"{path}: classes {description.get('classes')} differ from FER2013's {list(EMOTIONS)}")
    description["temperature"] = checked_temperature(description.get("temperature", 1.0), str(path))
    try:
        description["spec"] = PreprocessSpec.from_dict(description["preprocess"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: its preprocessing is missing or invalid ({exc})") from exc
    description.setdefault("precision", "fp32")
    return description


def load_onnx(path: Path, device: str, threads: int) -> tuple[OnnxModel, PreprocessSpec, dict, float]:
    """The ONNX file at path as a runtime, with its preprocessing, its description and its temperature."""
    if not path.is_file():
        raise ModelError(f"{path}: no such ONNX file" + ("; pass the file itself, not a folder" * path.is_dir()))
    if not available():
        raise UsageError("ONNX Runtime is not installed: 'pip install onnxruntime', or use --runtime torch")
    if device == "cuda" and CUDA not in providers():
        raise UsageError("--device cuda with ONNX needs onnxruntime-gpu; install it, or use --runtime torch")
    model = OnnxModel(path, device, threads)
    d = model.description
    info = {"arch": d.get("arch"), "metrics": d.get("metrics", {}), "source_sha256": d.get("source_sha256")}
    return model, d["spec"], info, d["temperature"]
