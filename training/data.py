"""FER2013 as in-memory uint8 tensors, from the Kaggle folder layout or the original fer2013.csv.

Decoding 28k small JPEGs takes a while, so each split is cached once as an .npz keyed by the source's
path and size; an epoch then never touches the disk.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fervideo.labels import EMOTIONS

CSV_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class Split:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64, FER2013 label order

    def __len__(self) -> int:
        return len(self.labels)


def default_cache_dir() -> Path:
    """Where decoded splits are kept: $FERVIDEO_CACHE or ~/.cache/fervideo."""
    return Path(os.environ.get("FERVIDEO_CACHE", Path.home() / ".cache" / "fervideo"))


def load_split(data: str | Path, split: str, cache_dir: Path | None = None) -> Split:
    """One split of FER2013 from DIR/<split>/<class>/*.jpg or from a fer2013.csv (a file, or DIR/fer2013.csv)."""
    data = Path(data)
    source = data if data.is_file() else data / "fer2013.csv" if (data / "fer2013.csv").is_file() else data / split
    if not source.exists():
        raise FileNotFoundError(f"no split {split!r} under {data}: expected {data / split}/<class>/ or fer2013.csv")
    cache = _cache_path(source, split, cache_dir or default_cache_dir())
    if cache.is_file():
        with np.load(cache) as npz:
            return Split(npz["images"], npz["labels"])
    result = _read_csv(source, split) if source.is_file() else _read_folder(source)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, images=result.images, labels=result.labels)
    os.replace(tmp, cache)
    return result


def _cache_path(source: Path, split: str, cache_dir: Path) -> Path:
    files = sorted(source.rglob("*")) if source.is_dir() else [source]
    fingerprint = f"{source.resolve()}|{split}|{len(files)}|{sum(f.stat().st_size for f in files)}"
    return cache_dir / f"fer2013-{split}-{hashlib.sha1(fingerprint.encode()).hexdigest()[:12]}.npz"


def _read_folder(folder: Path) -> Split:
    images, labels = [], []
    for label, name in enumerate(EMOTIONS):
        for path in sorted((folder / name).glob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise ValueError(f"{path}: not a readable image")
            if image.shape != (48, 48):
                image = cv2.resize(image, (48, 48), interpolation=cv2.INTER_AREA)
            images.append(image)
            labels.append(label)
    if not images:
        raise FileNotFoundError(f"no images under {folder}/<class>/ for classes {', '.join(EMOTIONS)}")
    return Split(np.stack(images), np.array(labels, np.int64))


def _read_csv(path: Path, split: str) -> Split:
    usage = CSV_USAGE[split]
    images, labels = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["Usage"].strip() != usage:
                continue
            pixels = np.array(row["pixels"].split(), np.uint8)
            if pixels.size != 48 * 48:
                raise ValueError(f"{path}: a row has {pixels.size} pixels, expected 2304")
            images.append(pixels.reshape(48, 48))
            labels.append(int(row["emotion"]))
    if not images:
        raise ValueError(f"{path}: no rows with Usage {usage!r}")
    return Split(np.stack(images), np.array(labels, np.int64))
