"""How good a model is: accuracy on a FER2013 split or on labelled photos, and what each registered model is."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import numpy as np

from fervideo.core.choices import DEFAULT_MODEL
from fervideo.core.detections import Detections
from fervideo.core.errors import InputError
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import Split, folder_files, load_split
from fervideo.data.ferplus import majority_split
from fervideo.data.metrics import confusion_matrix, macro_accuracy, report
from fervideo.engine.calibration import expected_calibration_error
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.engine.preprocess import PreprocessSpec
from fervideo.engine.source import VideoSource

Progress = Callable[[int, int], None]  # (faces done, faces in all)
MODEL_KEYS = ("name", "arch", "checkpoint", "sha256", "input_size", "runtime", "precision", "temperature")


def evaluate(
    classifier: EmotionClassifier,
    split: Split,
    batch_size: int = 256,
    tta: bool = False,
    progress: Progress | None = None,
) -> dict:
    """metrics.report of classifier on split, plus macro accuracy, calibration error, model, tta, classes, seconds."""
    tic = time.perf_counter()
    probs = []
    for start in range(0, len(split), batch_size):
        # predict() applies the checkpoint's own preprocessing, exactly as the video pipeline does
        probs.append(classifier.predict(split.images[start : start + batch_size], batch_size, tta=tta))
        if progress is not None:
            progress(min(start + batch_size, len(split)), len(split))
    probs = np.concatenate(probs) if probs else np.zeros((0, len(EMOTIONS)), np.float32)
    return _scored(classifier, probs, split.labels, tta, tic)


def _scored(classifier: EmotionClassifier, probs: np.ndarray, labels: np.ndarray, tta: bool, tic: float) -> dict:
    rep = report(confusion_matrix(labels, probs.argmax(axis=1)))
    return {
        **rep,
        "macro_accuracy": macro_accuracy(rep),
        "ece": expected_calibration_error(probs, labels),
        "classes": list(EMOTIONS),  # the order of the confusion matrix's rows and columns
        "model": {k: classifier.info[k] for k in MODEL_KEYS},
        "tta": tta,
        "seconds": round(time.perf_counter() - tic, 3),
    }


def evaluate_split(
    data: str | Path,
    split: str = "val",
    model: str = DEFAULT_MODEL,
    device: str = "auto",
    tta: bool = False,
    batch_size: int = 256,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    precision: str = "auto",
    labels: Path | None = None,
    runtime: str = "auto",
) -> dict:
    """Load split from data (Kaggle folders, fer2013.csv or a pack) and model, then evaluate; adds data and split.

    labels: a FER+ votes CSV; the split is then scored against FER+ majority labels (the protocol's images only).
    """
    faces = load_split(data, split, cache_dir)  # first: a wrong folder should not wait for a model to load
    if labels is not None:
        faces = majority_split(data, split, faces, labels)
    classifier = EmotionClassifier.load(model, device, precision, runtime)
    result = evaluate(classifier, faces, batch_size, tta, progress)
    return {"data": str(data), "split": split, "labels": "ferplus-majority" if labels else "fer2013", **result}


def evaluate_photos(
    data: str | Path,
    options: AnalyzeOptions | None = None,
    progress: Progress | None = None,
) -> dict:
    """Photos DIR/<class>/*.jpg through the whole pipeline (detect, crop, classify); each scores its largest face.

    A photo with no face found (or not readable) counts as wrong: it is in the per-class totals and in no_face,
    not in the confusion matrix (found faces only) nor in the calibration error.
    """
    options = options or AnalyzeOptions()
    tic = time.perf_counter()
    folder = Path(data)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder; expected DIR/<class>/*.jpg")
    photos = folder_files(folder)
    if not photos:
        raise InputError(f"no photos under {folder}/<class>/ for classes {', '.join(EMOTIONS)}")
    with Analyzer(options) as analyzer:
        probs, unreadable = largest_faces(analyzer, [path for path, _ in photos], progress)
        classifier = analyzer.classifier
    labels = np.array([label for _, label in photos], np.int64)
    found = ~np.isnan(probs[:, 0])
    missed = [photo for photo, hit in zip(photos, found, strict=True) if not hit]
    result = _scored(classifier, probs[found], labels[found], options.tta, tic)
    no_face = {name: sum(label == i for _, label in missed) for i, name in enumerate(EMOTIONS)}
    for name, row in result["per_class"].items():
        row["total"] += no_face[name]
        row["accuracy"] = row["correct"] / row["total"] if row["total"] else None
    correct = sum(row["correct"] for row in result["per_class"].values())
    return {
        "data": str(data),
        "split": "photos",
        "labels": "folders",
        **result,
        "accuracy": correct / len(photos),
        "n": len(photos),
        "macro_accuracy": macro_accuracy(result),
        "faces_found": 1 - len(missed) / len(photos),
        "no_face": no_face,
        "no_face_files": [str(path) for path, _ in missed],
        "unreadable_files": unreadable,
    }


def largest_faces(
    analyzer: Analyzer, photos: list[Path], progress: Progress | None = None
) -> tuple[np.ndarray, list[str]]:
    """(N, 7) probabilities of each photo's largest face, NaN where none was found, and the unreadable photos."""
    probs, unreadable = np.full((len(photos), len(EMOTIONS)), np.nan, np.float32), []
    for done, path in enumerate(photos, 1):
        try:
            with VideoSource(path) as source, closing(analyzer.run(source)) as results:
                faces = next(results).faces  # closed before the source: its reading thread has stopped
        except InputError:  # one broken file in a folder of photos is reported, not fatal
            faces = Detections.empty()
            unreadable.append(str(path))
        if len(faces):
            wh = faces.xyxy[:, 2:] - faces.xyxy[:, :2]
            probs[done - 1] = faces.probs[int(np.argmax(wh[:, 0] * wh[:, 1]))]
        if progress is not None:
            progress(done, len(photos))
    return probs, unreadable


def count_parameters(name: str, config: dict | None = None) -> int:
    """Parameters of a registered model, built on torch's meta device so that no weights are allocated."""
    import torch

    from fervideo.engine.models import create_model

    try:
        with torch.device("meta"):
            model = create_model(name, **(config or {}))
    except (RuntimeError, NotImplementedError, TypeError):
        model = create_model(name, **(config or {}))  # a builder that needs real tensors
    return sum(p.numel() for p in model.parameters())


def model_catalog() -> list[dict]:
    """Each registered model: name, description, parameters, input, shipped val accuracy, default."""
    from fervideo.engine.runtime import torch_installed

    if not torch_installed():  # a lean install: what the shipped ONNX files say of themselves
        return onnx_catalog()
    from fervideo.engine.checkpoint import load_checkpoint, shipped_weights  # torch: the catalogue reads checkpoints
    from fervideo.engine.models import list_models

    rows = []
    for entry in list_models():
        path = shipped_weights(entry.name)  # the .pt, or in an installed wheel the ONNX file
        shipped = path is not None
        config, spec, metrics = {}, entry.preprocess, {}
        if shipped:  # describe what `--model NAME` really runs, which may differ from the builder's defaults
            payload = load_checkpoint(path)
            config, spec = payload["config"], PreprocessSpec.from_dict(payload["preprocess"])
            metrics = payload.get("metrics", {})
        parameters = count_parameters(entry.name, config)
        rows.append(_catalog_row(entry.name, entry.description, parameters, spec, metrics if shipped else None))
    return rows


def onnx_catalog() -> list[dict]:
    """The shipped models as a lean install (ONNX Runtime, no torch) can run them, from their float ONNX files."""
    from fervideo.engine.onnx_model import OnnxModel
    from fervideo.engine.runtime import WEIGHTS_DIR

    rows = []
    from fervideo.engine.identity import EMBED_FILE  # the face recognition net: no emotion model
    from fervideo.engine.landmarks import MEDIAPIPE_FILES  # the face detector, mesh and iris: no emotion models

    others = {EMBED_FILE, *MEDIAPIPE_FILES}
    for path in sorted(
        p for p in WEIGHTS_DIR.glob("*.onnx") if not p.name.endswith(".int8.onnx") and p.name not in others
    ):
        d = OnnxModel(path).description
        rows.append(_catalog_row(path.stem, d.get("summary", ""), d.get("parameters"), d["spec"], d.get("metrics", {})))
    return rows


def _catalog_row(
    name: str, description: str, parameters: int | None, spec: PreprocessSpec, metrics: dict | None
) -> dict:
    """One model's row; metrics None for a model that ships no weights."""
    return {
        "name": name,
        "description": description,
        "parameters": parameters,
        "input": f"{spec.input_size}x{spec.input_size}x{spec.channels}",
        "val_accuracy": None if metrics is None else metrics.get("val_accuracy"),
        # fer2013 (the folders) or ferplus-majority (FER+ crowd labels)
        "val_labels": None if metrics is None else metrics.get("val_labels", "fer2013"),
        "shipped": metrics is not None,
        "default": name == DEFAULT_MODEL,
    }
