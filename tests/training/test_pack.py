"""training.pack and fervideo.data.dataset's packs: decoded splits in one .npz or .npz.xz that training reads."""

import numpy as np
import pytest

from fervideo.core.errors import InputError, UsageError
from fervideo.data.dataset import load_split
from tests.helpers import write_folder
from training.pack import main, parse_args


@pytest.mark.parametrize("name", ["fer.npz", "fer.npz.xz"])
def test_pack_holds_exactly_the_decoded_splits(tmp_path, name):
    root = write_folder(tmp_path / "fer", {"train": 3, "val": 1})
    out = main(parse_args(["--data", str(root), "--out", str(tmp_path / name), "--cache-dir", str(tmp_path / "c")]))
    for split in ("train", "val"):
        original, packed = load_split(root, split, tmp_path / "c"), load_split(out, split)
        np.testing.assert_array_equal(packed.images, original.images)
        np.testing.assert_array_equal(packed.labels, original.labels)
        assert packed.labels.dtype == np.int64
    with pytest.raises(InputError, match="no 'test' split"):
        load_split(out, "test")
    assert not list(tmp_path.glob("*.tmp"))  # written whole, then renamed


def test_xz_pack_is_smaller_than_plain(tmp_path):
    root = write_folder(tmp_path / "fer", {"train": 4})
    sizes = {}
    for name in ("a.npz", "a.npz.xz"):
        main(parse_args(["--data", str(root), "--out", str(tmp_path / name), "--splits", "train"]))
        sizes[name] = (tmp_path / name).stat().st_size
    assert sizes["a.npz.xz"] < sizes["a.npz"]


def test_a_damaged_pack_is_a_clear_input_error(tmp_path):
    bad = tmp_path / "fer.npz.xz"
    bad.write_bytes(b"not xz at all")
    with pytest.raises(InputError, match="not a readable FER2013 pack"):
        load_split(bad, "train")


@pytest.mark.parametrize("out", ["fer.zip", "missing/fer.npz"])
def test_pack_refuses_a_bad_out_path(tmp_path, out):
    root = write_folder(tmp_path / "fer", {"train": 1})
    with pytest.raises(UsageError, match="--out"):
        main(parse_args(["--data", str(root), "--out", str(tmp_path / out)]))
