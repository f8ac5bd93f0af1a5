"""How good a model is: accuracy on a FER2013 split, and what each registered model is."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from fervideo.checkpoint import WEIGHTS_DIR, load_checkpoint
from fervideo.classifier import EmotionClassifier
from fervideo.dataset import Split, load_split
from fervideo.labels import EMOTIONS
from fervideo.metrics import confusion_matrix, report
from fervideo.models import DEFAULT_MODEL, create_model, list_models
from fervideo.preprocess import PreprocessSpec

Progress = Callable[[int, int], None]  # (faces done, faces in all)
MODEL_KEYS = ("name", "arch", "checkpoint", "sha256", "input_size", "precision")


def evaluate(
    classifier: EmotionClassifier,
    split: Split,
    batch_size: int = 256,
    tta: bool = False,
    progress: Progress | None = None,
) -> dict:
    """metrics.report of classifier on split, plus model, tta, classes and seconds."""
    tic = time.perf_counter()
    preds = []
    for start in range(0, len(split), batch_size):
        # predict() applies the checkpoint's own preprocessing, exactly as the video pipeline does
        probs = classifier.predict(split.images[start : start + batch_size], batch_size, tta=tta)
        preds.append(probs.argmax(axis=1))
        if progress is not None:
            progress(min(start + batch_size, len(split)), len(split))
    rep = report(confusion_matrix(split.labels, np.concatenate(preds) if preds else np.zeros(0, np.int64)))
    return {
        **rep,
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
) -> dict:
    """Load split from data (Kaggle folders or fer2013.csv) and model, then evaluate; adds data and split."""
    faces = load_split(data, split, cache_dir)  # first: a wrong folder should not wait for a model to load
    classifier = EmotionClassifier.load(model, device, precision)
    return {"data": str(data), "split": split, **evaluate(classifier, faces, batch_size, tta, progress)}


def count_parameters(name: str, config: dict | None = None) -> int:
    """Parameters of a registered model, built on torch's meta device so that no weights are allocated."""
    try:
        with torch.device("meta"):
            model = create_model(name, **(config or {}))
    except (RuntimeError, NotImplementedError, TypeError):
        model = create_model(name, **(config or {}))  # a builder that needs real tensors
    return sum(p.numel() for p in model.parameters())


def model_catalog() -> list[dict]:
    """Each registered model: name, description, parameters, input, shipped val accuracy, default."""
    rows = []
    for entry in list_models():
        shipped = entry.weights is not None and (WEIGHTS_DIR / entry.weights).is_file()
        config, spec, val_accuracy = {}, entry.preprocess, None
        if shipped:  # describe what `--model NAME` really runs, which may differ from the builder's defaults
            payload = load_checkpoint(WEIGHTS_DIR / entry.weights)
            config, spec = payload["config"], PreprocessSpec.from_dict(payload["preprocess"])
            val_accuracy = payload.get("metrics", {}).get("val_accuracy")
        rows.append(
            {
                "name": entry.name,
                "description": entry.description,
                "parameters": count_parameters(entry.name, config),
                "input": f"{spec.input_size}x{spec.input_size}x{spec.channels}",
                "val_accuracy": val_accuracy,
                "shipped": shipped,
                "default": entry.name == DEFAULT_MODEL,
            }
        )
    return rows
