"""fervideo.engine.preprocess: the one conversion from grey faces to model input."""

import numpy as np
import pytest

from fervideo.core.errors import ModelError
from fervideo.engine.preprocess import PreprocessSpec, prepare


def faces(n=3, size=48, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8)


@pytest.mark.parametrize(
    "spec",
    [
        PreprocessSpec(),
        PreprocessSpec(input_size=32),
        PreprocessSpec(input_size=64, channels=3, mean=0.485, std=0.229),
        PreprocessSpec(input_size=48, channels=3),
    ],
)
def test_prepare_shape_dtype_range(spec):
    x = prepare(faces(4), spec)
    assert x.shape == (4, spec.channels, spec.input_size, spec.input_size)
    assert x.dtype == np.float32
    assert x.flags.c_contiguous and x.flags.writeable
    low, high = (0 - spec.mean) / spec.std, (1 - spec.mean) / spec.std
    assert x.min() >= low - 1e-5 and x.max() <= high + 1e-5


def test_prepare_extremes_map_to_range_ends():
    spec = PreprocessSpec(mean=0.5, std=0.25)
    black_white = np.stack([np.zeros((48, 48), np.uint8), np.full((48, 48), 255, np.uint8)])
    x = prepare(black_white, spec)
    assert np.allclose(x[0], -2.0)
    assert np.allclose(x[1], 2.0)


def test_prepare_known_value_no_resize():
    x = prepare(np.full((1, 48, 48), 51, np.uint8), PreprocessSpec(mean=0.5, std=0.5))
    assert np.allclose(x, (0.2 - 0.5) / 0.5)


@pytest.mark.parametrize("spec", [PreprocessSpec(), PreprocessSpec(input_size=32), PreprocessSpec(input_size=96)])
def test_uint8_and_float_inputs_agree(spec):
    u8 = faces(2)
    from_uint8 = prepare(u8, spec)
    from_float64 = prepare(u8 / 255.0, spec)
    from_float32 = prepare(u8.astype(np.float32) / 255, spec)
    np.testing.assert_allclose(from_uint8, from_float64, atol=1e-6, rtol=0)
    np.testing.assert_allclose(from_uint8, from_float32, atol=1e-6, rtol=0)


def test_prepare_does_not_modify_input():
    u8 = faces(2)
    t = u8.copy()
    prepare(t, PreprocessSpec(normalize="equalize"))
    np.testing.assert_array_equal(t, u8)
    f = np.random.default_rng(1).random((2, 48, 48), dtype=np.float32)
    copy = f.copy()
    prepare(f, PreprocessSpec(input_size=64))
    np.testing.assert_array_equal(f, copy)


def test_channels_repeat_grey():
    grey = prepare(faces(2), PreprocessSpec(input_size=40, channels=1))
    rgb = prepare(faces(2), PreprocessSpec(input_size=40, channels=3))
    assert rgb.shape == (2, 3, 40, 40)
    for c in range(3):
        np.testing.assert_array_equal(rgb[:, c], grey[:, 0])


def test_resize_keeps_content():
    # a face dark on the left, bright on the right, stays so after resizing
    face = np.zeros((1, 48, 48), np.uint8)
    face[:, :, 24:] = 255
    x = prepare(face, PreprocessSpec(input_size=32, mean=0.0, std=1.0))[0, 0]
    assert x[:, :15].max() < 0.05 and x[:, 17:].min() > 0.95


def test_prepare_empty_batch():
    x = prepare(np.zeros((0, 48, 48), np.uint8), PreprocessSpec(input_size=32))
    assert x.shape == (0, 1, 32, 32)


def test_spec_dict_round_trip():
    spec = PreprocessSpec(input_size=224, channels=3, mean=0.45, std=0.27, face_size=64)
    data = spec.to_dict()
    assert data == {"input_size": 224, "channels": 3, "mean": 0.45, "std": 0.27, "face_size": 64, "normalize": "none"}
    assert PreprocessSpec.from_dict(data) == spec


def test_spec_from_dict_ignores_unknown_and_fills_missing():
    spec = PreprocessSpec.from_dict({"input_size": 32, "future_field": "x"})
    assert spec == PreprocessSpec(input_size=32)


# --- per-channel normalisation -------------------------------------------------------------------

IMAGENET = PreprocessSpec(input_size=56, channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


def test_per_channel_mean_std():
    x = prepare(faces(2), IMAGENET)
    grey = prepare(faces(2), PreprocessSpec(input_size=56, channels=1, mean=0.0, std=1.0))[:, 0]
    assert x.shape == (2, 3, 56, 56) and x.flags.c_contiguous
    for c in range(3):
        np.testing.assert_allclose(x[:, c], (grey - IMAGENET.mean[c]) / IMAGENET.std[c], rtol=1e-6, atol=1e-6)


def test_per_channel_equal_values_match_a_float():
    as_tuple = PreprocessSpec(input_size=32, channels=3, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    as_float = PreprocessSpec(input_size=32, channels=3, mean=0.5, std=0.25)
    np.testing.assert_array_equal(prepare(faces(2), as_tuple), prepare(faces(2), as_float))


def test_per_channel_dict_round_trip():
    data = IMAGENET.to_dict()
    assert data["mean"] == [0.485, 0.456, 0.406] and data["std"] == [0.229, 0.224, 0.225]  # lists, as JSON has
    spec = PreprocessSpec.from_dict(data)
    assert spec == IMAGENET and isinstance(spec.mean, tuple) and isinstance(spec.std, tuple)
    assert hash(spec) == hash(IMAGENET)


def test_per_channel_length_must_match_channels():
    with pytest.raises(ModelError, match="3 values for 1 channels"):
        PreprocessSpec(channels=1, mean=(0.4, 0.5, 0.6))
    with pytest.raises(ModelError, match="std"):
        PreprocessSpec(channels=3, std=[0.2, 0.2])


# --- the same input as the torch version this replaced: the shipped models were trained on that ---------


@pytest.mark.parametrize(
    "size,spec",
    [(48, PreprocessSpec(input_size=224, channels=3)), (44, PreprocessSpec()), (48, PreprocessSpec(input_size=32))],
)
def test_resizing_matches_torch_antialiased_bilinear(size, spec):
    torch = pytest.importorskip("torch")
    u8 = faces(3, size)
    reference = torch.nn.functional.interpolate(
        torch.from_numpy(u8).float()[:, None] / 255, size=(spec.input_size,) * 2, mode="bilinear", antialias=True
    )
    expected = ((reference - 0.5) / 0.5).expand(-1, spec.channels, -1, -1).numpy()
    np.testing.assert_allclose(prepare(u8, spec), expected, atol=1e-4, rtol=0)


def test_equalize_matches_a_rank_count():
    u8 = faces(2)
    x = prepare(u8, PreprocessSpec(mean=0.0, std=1.0, normalize="equalize"))[:, 0]
    for face, got in zip(u8, x, strict=True):
        flat = face.ravel()
        below = (flat[:, None] > flat[None, :]).sum(1)  # pixels darker than each pixel
        same = (flat[:, None] == flat[None, :]).sum(1)
        np.testing.assert_allclose(got.ravel(), (below + same / 2) / flat.size, atol=1e-6)
