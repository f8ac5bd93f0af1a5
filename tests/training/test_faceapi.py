"""training.faceapi: face-api's tfjs weights load, dequantised, into a net whose columns land on our classes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fervideo.core.errors import ModelError
from fervideo.core.labels import EMOTIONS

pytest.importorskip("torch", reason="training.faceapi runs face-api's net in torch (the torch extra)")
from training.faceapi import FACEAPI_CLASSES, MANIFEST, FaceExpressionNet, fer_input, load_weights, predict  # noqa: E402

QUANT = {"dtype": "uint8", "scale": 0.002, "min": -0.256}  # weights in [-0.256, 0.254]: activations stay small


def face_api_shapes() -> dict[str, tuple[int, ...]]:
    """The names and shapes of face_expression_model's weights (package 1.7.15), in its manifest's order."""
    shapes, width = {}, 3
    for block, out in enumerate((32, 64, 128, 256)):
        for conv in range(4):
            name, cin = f"dense{block}/conv{conv}", width if conv == 0 else out
            if block == conv == 0:
                shapes[f"{name}/filters"] = (3, 3, cin, out)
            else:
                shapes |= {f"{name}/depthwise_filter": (3, 3, cin, 1), f"{name}/pointwise_filter": (1, 1, cin, out)}
            shapes[f"{name}/bias"] = (out,)
        width = out
    return shapes | {"fc/weights": (256, 7), "fc/bias": (7,)}


def write_package(root, favour: str = "happy"):
    """A model/ folder like the npm package's: uint8 filters, float32 biases, fc's bias favouring one class."""
    rng = np.random.default_rng(0)
    entries, chunks = [], []
    for name, shape in face_api_shapes().items():
        entry = {"name": name, "shape": list(shape), "dtype": "float32"}
        if name.endswith("bias"):
            values = rng.normal(0, 0.01, shape).astype(np.float32)
            if name == "fc/bias":
                values[FACEAPI_CLASSES.index(favour)] = 30.0
        else:
            values = rng.integers(0, 256, shape, dtype=np.uint8)
            entry["quantization"] = QUANT
        entries.append(entry)
        chunks.append(values.tobytes())
    folder = root / "model"
    folder.mkdir()
    (folder / "face_expression_model.bin").write_bytes(b"".join(chunks))
    (folder / MANIFEST).write_text(json.dumps([{"paths": ["face_expression_model.bin"], "weights": entries}]))
    return folder, np.frombuffer(chunks[-2], np.uint8).reshape(256, 7)


def test_a_batch_gives_probabilities_with_face_api_columns_on_our_classes(tmp_path):
    _, fc_raw = write_package(tmp_path)
    weights = load_weights(tmp_path)  # the package root: its model/ folder is found
    np.testing.assert_allclose(weights["fc/weights"], fc_raw * QUANT["scale"] + QUANT["min"], rtol=1e-6)
    assert weights["fc/bias"].dtype == np.float32 and weights["fc/bias"][FACEAPI_CLASSES.index("happy")] == 30.0
    faces = np.random.default_rng(1).integers(0, 256, (2, 48, 48), dtype=np.uint8)
    probs = predict(FaceExpressionNet(weights).eval(), fer_input(faces))
    assert probs.shape == (2, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs.argmax(axis=1) == EMOTIONS.index("happy")).all()  # face-api's column 1, our column 3


def test_a_manifest_that_does_not_match_its_bin_is_a_clear_error(tmp_path):
    folder, _ = write_package(tmp_path)
    weights = folder / "face_expression_model.bin"
    weights.write_bytes(weights.read_bytes()[:-4])  # a .bin from another release, or a cut download
    with pytest.raises(ModelError, match=r"describes \d+ bytes .* hold \d+; take the manifest and the \.bin"):
        load_weights(folder)
