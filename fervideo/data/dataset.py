"""FER2013 as in-memory uint8 arrays, from the Kaggle folder layout, the original fer2013.csv, or a pack.

Decoding 28k small JPEGs takes a while, so each split is cached once as an .npz keyed by the source's
path and size; an epoch then never touches the disk. A pack (`python -m training.pack`) holds every split
already decoded in one .npz, optionally xz-compressed, so the data can travel to another machine.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import lzma
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.atomic import AtomicOutput, write_bytes
from fervideo.core.errors import InputError
from fervideo.core.labels import EMOTIONS
from fervideo.core.paths import local

CSV_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
CSV_COLUMNS = ("emotion", "pixels", "Usage")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
PACK_SUFFIXES = (".npz", ".npz.xz")


@dataclass
class Split:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64, FER2013 label order
    soft: np.ndarray | None = None  # (N, 7) float32 target distributions (FER+ votes), when training on them

    def __len__(self) -> int:
        return len(self.labels)


def default_cache_dir() -> Path:
    """Where decoded splits are kept: $FERVIDEO_CACHE or ~/.cache/fervideo."""
    return Path(os.environ.get("FERVIDEO_CACHE", Path.home() / ".cache" / "fervideo"))


def load_split(data: str | Path, split: str, cache_dir: Path | None = None) -> Split:
    """One split of FER2013 from DIR/<split>/<class>/*.jpg, a fer2013.csv (a file, or DIR/fer2013.csv) or a pack."""
    if split not in CSV_USAGE:
        raise InputError(f"unknown split {split!r}; use {', '.join(CSV_USAGE)}")
    data = Path(data)
    if not data.exists():
        raise InputError(f"{data}: no such data folder; expected DIR/<split>/<class>/*.jpg or a fer2013.csv")
    if data.is_file() and is_pack(data):
        return _read_pack(data, split)
    source = data if data.is_file() else data / "fer2013.csv" if (data / "fer2013.csv").is_file() else data / split
    if not source.exists():
        hint = ""
        if any((data / name).is_dir() for name in EMOTIONS):
            hint = f"; {data} holds class folders itself, so give its parent folder"
        raise InputError(f"no split {split!r} under {data}: expected {data / split}/<class>/*.jpg or fer2013.csv{hint}")
    cache = _cache_path(source, split, cache_dir or default_cache_dir())
    cached = _read_cache(cache)
    if cached is not None:
        return cached
    result = _read_csv(source, split) if source.is_file() else _read_folder(source)
    _write_cache(cache, result)
    return result


def _cache_path(source: Path, split: str, cache_dir: Path) -> Path:
    """The cache of source's split, named by every file's place, size and modification time: an image moved to
    another class folder, or replaced by one of the same size, is a new cache (a count and a total were not)."""
    files = sorted(source.rglob("*")) if source.is_dir() else [source]
    digest = hashlib.sha1(f"{source.resolve()}|{split}".encode())
    for path in files:
        st = path.stat()
        digest.update(f"|{path.relative_to(source) if path != source else ''}|{st.st_size}|{st.st_mtime_ns}".encode())
    return cache_dir / f"fer2013-{split}-{digest.hexdigest()[:12]}.npz"


def _read_cache(cache: Path) -> Split | None:
    if not cache.is_file():
        return None
    try:
        with np.load(cache) as npz:
            return Split(npz["images"], npz["labels"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # a damaged cache only costs a fresh decode


def _write_cache(cache: Path, split: Split) -> None:
    with contextlib.suppress(OSError):  # an unwritable cache makes the next load slower, not wrong
        cache.parent.mkdir(parents=True, exist_ok=True)
        with AtomicOutput(cache) as out:
            np.savez(out.tmp, images=split.images, labels=split.labels)


def save_pack(path: Path, splits: dict[str, Split], votes: dict[str, np.ndarray] | None = None) -> None:
    """Write splits (and FER+ votes (N, 10) per split, if given) into one .npz, xz-compressed for .npz.xz."""
    arrays = {}
    for name, split in splits.items():
        arrays |= {f"{name}_images": split.images, f"{name}_labels": split.labels}
    arrays |= {f"{name}_votes": matrix for name, matrix in (votes or {}).items()}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    raw = buffer.getvalue()
    write_bytes(path, lzma.compress(raw, preset=9) if path.name.endswith(".xz") else raw)


def is_pack(path: str | Path) -> bool:
    """Whether path names a pack (by its suffix)."""
    return Path(path).name.endswith(PACK_SUFFIXES)


def pack_votes(path: Path, split: str) -> np.ndarray:
    """The FER+ votes (N, 10) a pack holds for split, in the order of its images."""
    return _pack_arrays(path, split, "votes")[0]


def _read_pack(path: Path, split: str) -> Split:
    images, labels = _pack_arrays(path, split, "images", "labels")
    return Split(images, labels.astype(np.int64))


def _pack_arrays(path: Path, split: str, *names: str) -> list[np.ndarray]:
    try:
        raw = path.read_bytes()
        with np.load(io.BytesIO(lzma.decompress(raw) if path.name.endswith(".xz") else raw)) as npz:
            for name in names:
                if f"{split}_{name}" not in npz:
                    what = "FER+ votes (pack it with --ferplus)" if name == "votes" else "split"
                    raise InputError(f"{path}: the pack holds no {split!r} {what}")
            return [npz[f"{split}_{name}"] for name in names]
    except (OSError, ValueError, KeyError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a readable FER2013 pack ({exc})") from exc


def folder_files(folder: Path) -> list[tuple[Path, int]]:
    """(image path, label) of DIR/<class>/*.jpg in class order, then name order: the order of a loaded split."""
    return [
        (path, label)
        for label, name in enumerate(EMOTIONS)
        for path in sorted((folder / name).glob("*"))
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]


def left_out(folder: Path) -> list[Path]:
    """What folder_files passes over: folders not named as a class (Angry/, contempt/) and other kinds of file
    (.gif, .webp) in the class folders; hidden ones aside. For a warning: they count nowhere."""
    if not folder.is_dir():
        return []
    found = [p for p in sorted(folder.iterdir()) if p.is_dir() and p.name not in EMOTIONS]
    for name in EMOTIONS:
        files = sorted((folder / name).glob("*"))
        found += [path for path in files if path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES]
    return [path for path in found if not path.name.startswith(".")]


def split_files(data: str | Path, split: str) -> list[str]:
    """Names relative to data (`train/angry/x.jpg`) of a folder split's images, in load_split's order."""
    data = Path(data)
    if not (data / split).is_dir():
        raise InputError(f"{data}: FER+ votes need the image folders ({data / split}/<class>/*.jpg), not a csv or pack")
    return [path.relative_to(data).as_posix() for path, _ in folder_files(data / split)]


def _read_folder(folder: Path) -> Split:
    images, labels = [], []
    for path, label in folder_files(folder):
        image = cv2.imread(local(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise InputError(f"{path}: not a readable image")
        if image.shape != (48, 48):
            image = cv2.resize(image, (48, 48), interpolation=cv2.INTER_AREA)
        images.append(image)
        labels.append(label)
    if not images:
        raise InputError(f"no images under {folder}/<class>/ for classes {', '.join(EMOTIONS)}")
    return Split(np.stack(images), np.array(labels, np.int64))


def _read_csv(path: Path, split: str) -> Split:
    usage = CSV_USAGE[split]
    images, labels = [], []
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if not set(CSV_COLUMNS) <= set(reader.fieldnames or ()):
                raise InputError(f"{path}: not a fer2013.csv (needs the columns {', '.join(CSV_COLUMNS)})")
            for row in reader:
                if row["Usage"].strip() != usage:
                    continue
                pixels = np.array(row["pixels"].split(), np.int32)  # wider than uint8, so 300 is not read as 44
                if pixels.size != 48 * 48:
                    raise InputError(f"{path}: a row has {pixels.size} pixels, expected 2304")
                if pixels.min() < 0 or pixels.max() > 255:
                    raise InputError(f"{path}: a row has pixel values outside 0-255")
                label = int(row["emotion"])
                if not 0 <= label < len(EMOTIONS):  # an index outside the 7 classes broke the confusion matrix
                    raise InputError(f"{path}: line {reader.line_num} has emotion {label}; FER2013's are 0-6")
                images.append(pixels.reshape(48, 48).astype(np.uint8))
                labels.append(label)
    except (UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise InputError(f"{path}: not a fer2013.csv ({exc})") from exc
    if not images:
        raise InputError(f"{path}: no rows with Usage {usage!r}")
    return Split(np.stack(images), np.array(labels, np.int64))
