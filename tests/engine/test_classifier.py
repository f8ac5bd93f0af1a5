"""fervideo.engine.classifier: batched prediction and test-time augmentation with the shipped cnn."""

import numpy as np
import pytest
import torch

from fervideo.engine.classifier import EmotionClassifier, tta_views


@pytest.fixture(scope="module")
def clf():
    return EmotionClassifier.load("cnn", device="cpu", precision="fp32")  # int8 rounding would blur the checks


def random_faces(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


def symmetric_faces(n, seed=1):
    left = random_faces(n, seed)[:, :, :24]
    return np.concatenate([left, left[:, :, ::-1]], axis=2)  # (n, 48, 48), equal to its mirror image


def test_tta_views_are_the_face_its_mirror_and_four_corners():
    faces = random_faces(3)
    views = tta_views(faces)
    expected = [
        faces,
        faces[:, :, ::-1],
        faces[:, :44, :44],
        faces[:, :44, 4:],
        faces[:, 4:, :44],
        faces[:, 4:, 4:],
    ]
    assert len(views) == len(expected)
    for view, want in zip(views, expected, strict=True):
        np.testing.assert_array_equal(view, want)


@pytest.mark.parametrize("tta", [False, True])
def test_rows_are_probabilities(clf, tta):
    probs = clf.predict(random_faces(9), batch_size=4, tta=tta)
    assert probs.shape == (9, 7) and probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("tta", [False, True])
def test_batch_size_does_not_change_the_result(clf, tta):
    faces = random_faces(7)
    whole = clf.predict(faces, batch_size=64, tta=tta)
    for batch_size in (1, 3):
        np.testing.assert_allclose(clf.predict(faces, batch_size=batch_size, tta=tta), whole, atol=1e-6)


def test_tta_is_off_by_default_and_changes_the_result(clf):
    faces = random_faces(6)
    plain = clf.predict(faces)
    np.testing.assert_array_equal(plain, clf.predict(faces, tta=False))
    assert not np.allclose(clf.predict(faces, tta=True), plain, atol=1e-4)


def test_tta_on_a_flat_face_is_the_plain_prediction(clf):
    """Every view of a flat grey face is the same picture, so averaging over them changes nothing."""
    faces = np.stack([np.full((48, 48), v, np.uint8) for v in (0, 90, 200)])
    np.testing.assert_allclose(clf.predict(faces, tta=True), clf.predict(faces), atol=1e-6)


def test_tta_on_a_symmetric_face(clf):
    """A mirror-symmetric face is its own mirror view and its right corners mirror its left ones."""
    faces = symmetric_faces(4)
    tl, bl = faces[:, :44, :44], faces[:, 4:, :44]
    views = [faces, faces, tl, tl[:, :, ::-1], bl, bl[:, :, ::-1]]
    expected = np.mean([clf.predict(view) for view in views], axis=0)  # predict resizes 44x44 crops like 48x48
    np.testing.assert_allclose(clf.predict(faces, tta=True), expected, atol=1e-5)


def test_mirrored_array_is_accepted(clf):
    """faces[:, :, ::-1] has negative strides, which torch cannot wrap without a copy."""
    faces = random_faces(5)[:, :, ::-1]
    for tta in (False, True):
        expected = clf.predict(np.ascontiguousarray(faces), tta=tta)
        np.testing.assert_array_equal(clf.predict(faces, tta=tta), expected)


def test_empty_input(clf):
    for tta in (False, True):
        assert clf.predict(np.zeros((0, 48, 48), np.uint8), tta=tta).shape == (0, 7)


def test_precision_choices():
    from fervideo.core.errors import UsageError
    from fervideo.engine.torch_model import native_bf16, resolve_precision

    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cpu) == ("bf16" if native_bf16(cpu) else "fp32")
    with pytest.raises(UsageError, match="auto, fp32 or bf16"):
        resolve_precision("fp16", cpu)


def test_bf16_predictions_stay_close_to_fp32():
    faces = random_faces(32, seed=5)
    fp32 = EmotionClassifier.load("fernet", device="cpu", precision="fp32")
    bf16 = EmotionClassifier.load("fernet", device="cpu", precision="bf16")
    a, b = fp32.predict(faces), bf16.predict(faces)
    assert fp32.info["precision"] == "fp32" and bf16.info["precision"] == "bf16"
    np.testing.assert_allclose(b.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(a - b).max() < 0.05
    assert (a.argmax(1) == b.argmax(1)).mean() >= 0.9
