"""training.visualize: filter, feature-map, patch and attention pictures."""

import cv2
import numpy as np
import pytest

from fervideo.core.errors import InputError, OutputError
from fervideo.core.labels import EMOTIONS
from fervideo.engine.checkpoint import save_checkpoint
from fervideo.engine.models import create_model, get_entry
from training.visualize import GAP, TILE, main, parse_args, visualize


def side(n):
    """Pixels of a grid n tiles long."""
    return n * TILE + (n + 1) * GAP


def sizes(info):
    """{file name: (height, width)} of the PNGs that visualize wrote."""
    out = {}
    for path in info["files"]:
        image = cv2.imread(path)
        assert image is not None, path
        out[path.rsplit("/", 1)[-1]] = image.shape[:2]
    return out


@pytest.fixture
def fer_image(tmp_path):
    yy, xx = np.mgrid[:48, :48]
    face = (128 + 60 * np.sin(xx / 5.0) * np.cos(yy / 7.0)).astype(np.uint8)
    path = tmp_path / "face.png"
    assert cv2.imwrite(str(path), face)
    return path


def test_cnn_filters_and_feature_maps(fer_image, tmp_path):
    info = visualize("cnn", fer_image, tmp_path / "out")
    assert info["face"] == "FER2013-size image"
    assert sizes(info) == {
        "face.png": (48, 48),
        "input.png": (192, 192),  # 32x32 input scaled by 6
        "filters.png": (side(1), side(6)),  # six 5x5 filters
        "features_1.png": (side(1), side(6)),  # six 28x28 maps
        "features_2.png": (side(2), side(8)),  # sixteen 10x10 maps, eight a row
    }
    assert set(info["probs"]) == set(EMOTIONS) and abs(sum(info["probs"].values()) - 1) < 1e-5


def test_vit_patches_and_attention(fer_image, tmp_path, capsys):
    info = main(parse_args(["--model", "vit", "--image", str(fer_image), "--out", str(tmp_path / "out")]))
    assert sizes(info) == {
        "face.png": (48, 48),
        "input.png": (192, 192),
        "patches.png": (192, 192),
        "attention_1.png": (side(4), side(4)),  # a row per token, a column per head
        "attention_2.png": (side(4), side(4)),  # the shared block's second application
    }
    printed = capsys.readouterr().out
    assert all(path in printed for path in info["files"])


def test_vit_class_token_checkpoint(fer_image, tmp_path):
    model = create_model("vit", class_token=True)
    path = tmp_path / "vit_cls.pt"
    save_checkpoint(path, model, "vit", get_entry("vit").preprocess)
    info = visualize(str(path), fer_image, tmp_path / "out")
    assert "note" not in info and info["checkpoint"] == str(path)
    shapes = sizes(info)
    assert shapes["attention_1.png"] == shapes["attention_2.png"] == (side(1), side(4))  # the class token's row


def test_unshipped_model_gets_random_weights_and_a_note(fer_image, tmp_path, monkeypatch):
    monkeypatch.setattr("training.visualize.WEIGHTS_DIR", tmp_path / "no_weights")
    info = visualize("vit", fer_image, tmp_path / "out")
    assert "random init" in info["note"] and "checkpoint" not in info
    assert sizes(info)["attention_2.png"] == (side(4), side(4))


def test_photo_without_a_face_uses_the_centre_square(tmp_path):
    photo = np.full((90, 160, 3), 200, np.uint8)
    photo[:, 35:125] = 60  # the centre square is dark, the sides bright
    path = tmp_path / "wall.jpg"
    assert cv2.imwrite(str(path), photo)
    info = visualize("cnn", path, tmp_path / "out")
    assert info["face"] == "centre square, no face found"
    face = cv2.imread(str(tmp_path / "out" / "face.png"), cv2.IMREAD_GRAYSCALE)
    assert face.shape == (48, 48) and face.max() < 80


def test_unreadable_image(tmp_path):
    (tmp_path / "x.png").write_text("no")
    with pytest.raises(InputError, match="not an image"):
        visualize("cnn", tmp_path / "x.png", tmp_path / "out")


def test_out_that_is_a_file_is_one_line(fer_image, tmp_path):
    with pytest.raises(OutputError, match="folder"):
        visualize("cnn", fer_image, fer_image)
