"""Training targets beyond FER2013's folder labels: FER+ crowd votes as soft targets and majority labels."""

from __future__ import annotations

from pathlib import Path

from fervideo.dataset import Split, is_pack, pack_votes, split_files
from fervideo.ferplus import majority_labels, read_votes, soft_targets, vote_matrix


def ferplus_splits(data: Path, votes: Path, train: Split, val: Split) -> tuple[Split, Split]:
    """train with FER+ vote shares as its soft targets; val relabelled by FER+ majority, its images only.

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
    return Split(train.images, train.labels, soft_targets(train_votes, train.labels)), Split(
        val.images[kept], labels[kept]
    )
