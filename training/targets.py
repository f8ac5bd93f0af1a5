"""Training targets beyond FER2013's folder labels: FER+ crowd votes as soft targets and majority labels; and
the order of an epoch's faces, which may favour the rare folder classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fervideo.data.dataset import Split, is_pack, pack_votes, split_files
from fervideo.data.ferplus import majority_labels, read_votes, soft_targets, vote_matrix


def ferplus_splits(data: Path, votes: Path, train: Split, val: Split, mix: float = 0.0) -> tuple[Split, Split]:
    """train with FER+ vote shares as its soft targets; val relabelled by FER+ majority, its images only.

    mix > 0 blends the folder label into the targets: mix * one-hot(folder) + (1 - mix) * vote shares, so the
    model learns the posed intent (FER2013) as well as the crowd's reading (FER+).

    votes is a FER+ CSV (with folder data), or a pack written with `training.pack --ferplus`, which holds them.
    """
    if is_pack(votes):
        train_votes, val_votes = pack_votes(votes, "train"), pack_votes(votes, "val")
    else:
        table = read_votes(votes)
        train_votes, val_votes = (vote_matrix(table, split_files(data, name)) for name in ("train", "val"))
    assert len(train_votes) == len(train) and len(val_votes) == len(val), "votes follow load_split's order"
    labels = majority_labels(val_votes)
    kept = labels >= 0
    assert 0.0 <= mix <= 1.0, "mix is a weight in [0, 1]"
    soft = soft_targets(train_votes, train.labels)
    soft = (1 - mix) * soft + mix * np.eye(soft.shape[1], dtype=np.float32)[train.labels]  # (N, 7)
    return Split(train.images, train.labels, soft.astype(np.float32)), Split(val.images[kept], labels[kept])


def epoch_order(labels: np.ndarray, power: float, generator: torch.Generator) -> torch.Tensor:
    """The faces of one epoch, (N,) indices: a shuffle, or with power > 0 a draw that favours rare folder classes."""
    if power == 0.0:
        return torch.randperm(len(labels), generator=generator)
    counts = np.bincount(labels, minlength=int(labels.max()) + 1).astype(np.float64)
    weights = torch.as_tensor(counts[labels] ** -power)
    return torch.multinomial(weights, len(labels), replacement=True, generator=generator)
