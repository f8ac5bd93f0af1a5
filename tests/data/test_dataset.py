"""fervideo.data.dataset: FER2013 from a fer2013.csv or the Kaggle folder layout, cached as .npz."""

import cv2
import numpy as np
import pytest

from fervideo.core.errors import InputError
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import load_split
from tests.helpers import face, small_fer_csv, write_fer_csv, write_folder

# --- tiny data sets, also used by test_training and test_evaluation ------------------------------


@pytest.fixture
def fer_csv(tmp_path):
    return small_fer_csv(tmp_path / "fer2013.csv")


# --- fer2013.csv ---------------------------------------------------------------------------------


def test_csv_splits(fer_csv, tmp_path):
    cache = tmp_path / "cache"
    train = load_split(fer_csv, "train", cache_dir=cache)
    assert len(train) == 7
    assert train.images.shape == (7, 48, 48) and train.images.dtype == np.uint8
    assert train.labels.dtype == np.int64 and train.labels.tolist() == list(range(7))
    np.testing.assert_array_equal(train.images[4], face(4, 1))
    val = load_split(fer_csv, "val", cache_dir=cache)
    assert val.labels.tolist() == [3, 5]
    np.testing.assert_array_equal(val.images[1], face(5, 2))
    test = load_split(fer_csv, "test", cache_dir=cache)
    assert test.labels.tolist() == [6]


def test_csv_found_in_folder(fer_csv, tmp_path):
    val = load_split(fer_csv.parent, "val", cache_dir=tmp_path / "cache")
    assert val.labels.tolist() == [3, 5]


def test_csv_cache_is_used(fer_csv, tmp_path):
    cache = tmp_path / "cache"
    first = load_split(fer_csv, "train", cache_dir=cache)
    cached = list(cache.glob("*.npz"))
    assert len(cached) == 1 and "train" in cached[0].name
    again = load_split(fer_csv, "train", cache_dir=cache)
    np.testing.assert_array_equal(again.images, first.images)
    np.testing.assert_array_equal(again.labels, first.labels)
    assert list(cache.glob("*.tmp*")) == []


def test_cache_dir_from_environment(fer_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("FERVIDEO_CACHE", str(tmp_path / "env-cache"))
    load_split(fer_csv, "val")
    assert len(list((tmp_path / "env-cache").glob("fer2013-val-*.npz"))) == 1


def test_damaged_cache_is_decoded_again(fer_csv, tmp_path):
    cache = tmp_path / "cache"
    load_split(fer_csv, "val", cache_dir=cache)
    (npz,) = cache.glob("*.npz")
    npz.write_bytes(b"not an npz")
    assert load_split(fer_csv, "val", cache_dir=cache).labels.tolist() == [3, 5]


def test_unwritable_cache_still_loads(fer_csv, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    assert len(load_split(fer_csv, "train", cache_dir=blocker / "cache")) == 7


@pytest.mark.parametrize(
    ("rows", "split", "message"),
    [
        ([(0, "Training", np.zeros(100, np.uint8))], "train", "2304"),
        ([(0, "Training", np.full(2304, 300))], "train", "outside 0-255"),
        ([(0, "Training", face(0, 0))], "val", "PublicTest"),
        ([(3, "Training", face(3, 0)), (7, "Training", face(0, 1))], "train", "line 3 has emotion 7"),
        ([(-1, "Training", face(0, 0))], "train", "emotion -1; FER2013's are 0-6"),
    ],
)
def test_csv_bad_rows(tmp_path, rows, split, message):
    path = write_fer_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(InputError, match=message):
        load_split(path, split, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())  # nothing bad is cached


@pytest.mark.parametrize("content", [b"a,b\n1,2\n", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\xff\xfe"])
def test_file_that_is_not_a_fer_csv(tmp_path, content):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a fer2013.csv"):
        load_split(path, "val", cache_dir=tmp_path / "cache")


# --- Kaggle folders ------------------------------------------------------------------------------


def test_folder_splits(tmp_path):
    root = write_folder(tmp_path / "fer", {"train": 3, "val": 2})
    train = load_split(root, "train", cache_dir=tmp_path / "cache")
    assert train.images.shape == (21, 48, 48) and train.images.dtype == np.uint8
    assert train.labels.tolist() == [label for label in range(7) for _ in range(3)]
    # class folders are read in label order: the class brightness rises with the label
    means = [train.images[train.labels == label].mean() for label in range(7)]
    assert means == sorted(means)
    val = load_split(root, "val", cache_dir=tmp_path / "cache")
    assert len(val) == 14


def test_folder_resizes_and_skips_other_files(tmp_path):
    root = tmp_path / "fer"
    folder = root / "train" / "happy"
    folder.mkdir(parents=True)
    assert cv2.imwrite(str(folder / "big.png"), np.full((96, 96), 200, np.uint8))
    (folder / "notes.txt").write_text("not an image")
    split = load_split(root, "train", cache_dir=tmp_path / "cache")
    assert split.images.shape == (1, 48, 48)
    assert split.labels.tolist() == [EMOTIONS.index("happy")]
    assert split.images[0].min() == 200


def test_folder_cache_follows_changes(tmp_path):
    root = write_folder(tmp_path / "fer", {"train": 1})
    cache = tmp_path / "cache"
    assert len(load_split(root, "train", cache_dir=cache)) == 7
    assert cv2.imwrite(str(root / "train" / "sad" / "extra.png"), np.zeros((48, 48), np.uint8))
    assert len(load_split(root, "train", cache_dir=cache)) == 8
    # relabelled: the same files, count and bytes, one moved to another class (the cache once kept the old labels)
    (root / "train" / "sad" / "extra.png").rename(root / "train" / "happy" / "extra.png")
    split = load_split(root, "train", cache_dir=cache)
    assert np.bincount(split.labels, minlength=7).tolist() == [1, 1, 1, 2, 1, 1, 1]


def test_folder_with_a_broken_image(tmp_path):
    root = write_folder(tmp_path / "fer", {"val": 1})
    (root / "val" / "fear" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="broken.jpg: not a readable image"):
        load_split(root, "val", cache_dir=tmp_path / "cache")


def test_missing_data_split_and_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no such data folder"):
        load_split(tmp_path / "nothing", "train", cache_dir=tmp_path / "cache")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(InputError, match="no split 'val'"):
        load_split(tmp_path / "empty", "val", cache_dir=tmp_path / "cache")
    with pytest.raises(InputError, match="no images"):
        load_split(tmp_path / "empty", "train", cache_dir=tmp_path / "cache")
    with pytest.raises(InputError, match="unknown split 'dev'"):
        load_split(tmp_path / "empty", "dev", cache_dir=tmp_path / "cache")
