"""Faces alike in training and inference: prepare()'s equalisation and the camera-like augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fervideo.core.errors import ModelError
from fervideo.engine.models import get_entry
from fervideo.engine.preprocess import PreprocessSpec, prepare
from training.augment import AugmentConfig, augment
from training.recipes import recipe_for

EQUALIZE = PreprocessSpec(mean=0.5, std=0.25, normalize="equalize")


def face(seed: int = 0) -> np.ndarray:
    """A smooth, face-sized grey pattern with a full range of levels."""
    y, x = np.mgrid[0:48, 0:48] / 47.0
    rng = np.random.default_rng(seed)
    return (255 * (0.5 + 0.3 * np.sin(6 * x + rng.uniform()) * np.cos(4 * y) + 0.2 * x)).clip(0, 255).astype(np.uint8)


def test_equalize_gives_a_dim_flat_crop_the_statistics_of_a_fer2013_face():
    dim = (face() * 0.2 + 30).astype(np.uint8)  # a dark, low-contrast camera crop
    x = prepare(dim[None], EQUALIZE) * 0.25 + 0.5  # back to [0, 1]
    assert float(x.mean()) == pytest.approx(0.5, abs=0.02) and float(x.std()) == pytest.approx(0.29, abs=0.03)


def test_equalize_ignores_any_brightening_that_keeps_the_order_of_levels():
    original = face(1)
    levels = np.unique(original)
    brighter = np.interp(original, levels, np.linspace(60, 250, len(levels)) ** 1.0).round().astype(np.uint8)
    assert len(np.unique(brighter)) == len(levels)  # the mapping keeps every level apart
    np.testing.assert_allclose(prepare(brighter[None], EQUALIZE), prepare(original[None], EQUALIZE))


def test_without_normalisation_prepare_is_unchanged_and_unknown_modes_are_refused():
    faces = np.stack([face(2), face(3)])
    plain = prepare(faces, PreprocessSpec(mean=0.5, std=0.25))
    np.testing.assert_allclose(plain, (faces.astype(np.float32)[:, None] / 255 - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ModelError, match="normalize 'clahe'"):
        PreprocessSpec(normalize="clahe")
    assert (
        get_entry("fernet_plus").preprocess.normalize == "equalize"
        and get_entry("fernet").preprocess.normalize == "none"
    )


CAMERA = AugmentConfig(hflip=False, contrast=0.6, brightness=40, gamma=0.5, blur=0.5, noise=8.0, lowres=0.5)


def test_camera_augmentation_keeps_shape_dtype_and_replays_with_its_seed():
    x = torch.as_tensor(np.stack([face(i) for i in range(32)]))
    a = augment(x, CAMERA, torch.Generator().manual_seed(3))
    assert a.shape == x.shape and a.dtype == torch.uint8
    torch.testing.assert_close(a, augment(x, CAMERA, torch.Generator().manual_seed(3)))
    changed = (a.float() - x.float()).abs().mean(dim=(1, 2)) > 1
    assert changed.float().mean() > 0.8  # nearly every face is altered, each in its own way


@pytest.mark.parametrize(
    ("config", "check"),
    [
        (AugmentConfig(hflip=False, blur=1.0), "smoother"),
        (AugmentConfig(hflip=False, lowres=1.0), "smoother"),
        (AugmentConfig(hflip=False, noise=30.0), "rougher"),
        (AugmentConfig(hflip=False, contrast=3.0), "contrast"),
    ],
)
def test_each_camera_effect_does_what_it_says(config, check):
    grain = np.random.default_rng(0).integers(-20, 21, (64, 48, 48))  # fine detail for blur to take away
    x = torch.as_tensor(np.clip(np.stack([face(i) for i in range(64)]) + grain, 0, 255).astype(np.uint8))
    y = augment(x, config, torch.Generator().manual_seed(0))

    def roughness(t):
        return (t.float().diff(dim=-1).abs()).mean()

    if check == "smoother":
        assert roughness(y) < 0.95 * roughness(x)
    elif check == "rougher":
        assert roughness(y) > 1.2 * roughness(x)
    else:
        spread = (y.float().std(dim=(1, 2)) / x.float().std(dim=(1, 2))).log().abs()
        assert spread.mean() > 0.2  # contrast both raised and lowered, by a clear factor


@pytest.mark.parametrize("name", ["fernet_plus", "fernet_lite"])
def test_the_real_face_recipes_draw_camera_effects(name):
    aug = recipe_for(name).augment
    assert aug.contrast and aug.gamma and aug.blur and aug.noise and aug.lowres
    assert recipe_for(name).label_smoothing == 0.0  # FER+ votes are already soft


def test_every_shipped_model_has_its_own_recipe():
    from fervideo.engine.models import list_models
    from training.recipes import RECIPES

    shipped = {e.name for e in list_models() if e.weights}
    assert shipped <= RECIPES.keys(), f"no recipe (the generic one would train them): {shipped - RECIPES.keys()}"
