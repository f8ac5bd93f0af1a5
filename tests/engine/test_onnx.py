"""The ONNX runtime: every model exports, the shipped ONNX files are the shipped checkpoints, choices are clear."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fervideo.core.checksum import sha256
from fervideo.core.errors import ModelError, UsageError
from fervideo.data.dataset import load_split
from fervideo.engine.checkpoint import save_checkpoint
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.models import create_model, get_entry, list_models
from fervideo.engine.runtime import WEIGHTS_DIR, choose
from tests.conftest import shared_path
from training.export import main, parse_args

onnx = pytest.importorskip("onnx", reason="training.export --onnx needs the onnx package (the dev extra)")

SHIPPED = [e.name for e in list_models() if e.weights and (WEIGHTS_DIR / e.weights).is_file()]


def random_faces(n: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


@pytest.fixture(scope="module")
def real_faces():
    """FER2013 val faces: real faces, as the shipped models will see them."""
    return load_split(shared_path("fer2013"), "val").images[::40]  # 90 faces of every class


@pytest.mark.parametrize("name", [e.name for e in list_models()])
def test_every_architecture_exports_to_onnx_with_the_same_outputs(name, tmp_path):
    entry = get_entry(name)
    torch.manual_seed(0)
    model = create_model(name, **entry.test_config)
    checkpoint = tmp_path / f"{name}.pt"
    save_checkpoint(checkpoint, model, name, entry.preprocess, {"val_accuracy": 0.25}, temperature=1.5)
    onnx_path = main(parse_args(["--checkpoint", str(checkpoint), "--onnx", str(tmp_path / f"{name}.onnx")]))
    on_onnx = EmotionClassifier.load(str(onnx_path), "cpu")
    on_torch = EmotionClassifier.load(str(checkpoint), "cpu", precision="fp32")
    assert on_onnx.info["runtime"] == "onnx" and on_torch.info["runtime"] == "torch"
    assert on_onnx.temperature == 1.5 and on_onnx.spec == on_torch.spec
    assert on_onnx.info["source_sha256"] == sha256(checkpoint) and on_onnx.info["arch"] == name
    faces = random_faces(5)
    np.testing.assert_allclose(on_onnx.predict(faces, tta=True), on_torch.predict(faces, tta=True), atol=1e-5)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_onnx_is_the_shipped_checkpoint(name, real_faces):
    onnx_file = WEIGHTS_DIR / f"{name}.onnx"
    assert onnx_file.is_file(), f"{name} ships no ONNX file: python -m training.export --onnx"
    on_onnx = EmotionClassifier.load(str(onnx_file), "cpu")
    on_torch = EmotionClassifier.load(name, "cpu", precision="fp32", runtime="torch")
    assert on_onnx.info["source_sha256"] == on_torch.info["sha256"], "exported from other weights: export again"
    assert on_onnx.temperature == on_torch.temperature and on_onnx.spec == on_torch.spec
    for faces in (random_faces(), real_faces):
        np.testing.assert_allclose(on_onnx.predict(faces), on_torch.predict(faces), atol=1e-5)
    assert onnx_file.stat().st_size < 8 << 20  # a few MB


@pytest.mark.parametrize("name", [n for n in SHIPPED if (WEIGHTS_DIR / f"{n}.int8.onnx").is_file()])
def test_shipped_int8_agrees_with_float(name, real_faces):
    int8 = EmotionClassifier.load(name, "cpu", precision="int8")
    fp32 = EmotionClassifier.load(name, "cpu", precision="fp32")
    assert int8.precision == "int8" and int8.info["source_sha256"] == fp32.info["source_sha256"]
    a, b = int8.predict(real_faces), fp32.predict(real_faces)
    assert (a.argmax(1) == b.argmax(1)).mean() >= 0.93 and np.abs(a - b).max() < 0.25
    assert EmotionClassifier.load(name, "cpu").precision == "int8"  # auto takes the twin that passed its check


@pytest.mark.parametrize("name", [n for n in SHIPPED if (WEIGHTS_DIR / f"{n}.int8.onnx").is_file()])
def test_shipped_int8_runs_integer_convolutions_end_to_end(name):
    ops = [node.op_type for node in onnx.load(WEIGHTS_DIR / f"{name}.int8.onnx").graph.node]
    # a float batch norm between layers forces a dequantise and a quantise around each (a third slower)
    assert "BatchNormalization" not in ops and "Conv" not in ops and "QLinearConv" in ops
    assert ops.count("QuantizeLinear") <= 2, "the graph returns to float between layers"


def test_choices_name_the_runtime_and_refuse_what_cannot_run(tmp_path):
    assert choose("fernet_plus", "cpu").runtime == "onnx"
    assert choose("fernet_plus", "cpu", runtime="torch").path.suffix == ".pt"
    assert choose("fernet_plus", "cpu", precision="bf16").runtime == "torch"  # ONNX Runtime has no bf16 here
    with pytest.raises(UsageError, match="runs on ONNX Runtime only"):
        choose("fernet_plus", "cpu", precision="int8", runtime="torch")
    with pytest.raises(UsageError, match="'cnn' ships no int8 file .*fernet_plus"):  # not "use --runtime torch"
        choose("cnn", "cpu", precision="int8")
    with pytest.raises(ModelError, match="no such checkpoint file"):  # not "export it": there is nothing to export
        choose(str(tmp_path / "mine.pt"), runtime="onnx")
    (tmp_path / "mine.pt").write_bytes(b"x")
    with pytest.raises(UsageError, match="export it with"):
        choose(str(tmp_path / "mine.pt"), runtime="onnx")
    with pytest.raises(UsageError, match="needs a .pt"):
        choose(str(tmp_path / "mine.onnx"), runtime="torch")
    with pytest.raises(UsageError, match="bf16 runs on torch"):
        choose(str(tmp_path / "mine.onnx"), precision="bf16")
    with pytest.raises(UsageError, match="unknown runtime"):
        choose("fernet_plus", runtime="tensorrt")
    with pytest.raises(UsageError, match="no float32 ONNX file"):
        choose("vit_b16", runtime="onnx")
    with pytest.raises(ModelError, match="ships no weights"):  # no ONNX file: torch's checkpoint, and none ships
        choose("vit_b16")


def test_auto_on_a_gpu_machine_takes_torch_only_where_torch_is_installed(monkeypatch):
    import fervideo.engine.runtime as runtime

    monkeypatch.setattr(runtime, "_gpu_present", lambda: True)
    assert choose("fernet_plus").runtime == "torch"  # torch's CUDA, as ONNX Runtime has no CUDA provider here
    monkeypatch.setattr(runtime, "torch_installed", lambda: False)
    assert choose("fernet_plus").runtime == "onnx" and choose("fernet_plus").device == "cpu"  # a lean install


def test_a_foreign_or_broken_onnx_file_is_one_clear_error(tmp_path):
    with pytest.raises(ModelError, match="no such ONNX file"):
        EmotionClassifier.load(str(tmp_path / "missing.onnx"))
    (tmp_path / "folder.onnx").mkdir()
    with pytest.raises(ModelError, match="not a folder"):
        EmotionClassifier.load(str(tmp_path / "folder.onnx"))
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a graph")
    with pytest.raises(ModelError, match="not an ONNX model"):
        EmotionClassifier.load(str(garbage))
    import onnx
    from onnx import helper

    node = helper.make_node("Identity", ["input"], ["logits"])
    graph = helper.make_graph(
        [node],
        "bare",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [None, 7])],
        [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [None, 7])],
    )
    bare = tmp_path / "bare.onnx"
    onnx.save(helper.make_model(graph), bare)
    with pytest.raises(ModelError, match="without fervideo's description"):
        EmotionClassifier.load(str(bare))
    described = helper.make_model(graph)
    meta = described.metadata_props.add()
    meta.key, meta.value = "fervideo", json.dumps({"format": "fervideo-onnx/1", "classes": ["happy"]})
    onnx.save(described, bare)
    with pytest.raises(ModelError, match="differ from FER2013"):
        EmotionClassifier.load(str(bare))


def test_export_options_that_do_not_fit(tmp_path):
    checkpoint = tmp_path / "x.pt"
    for argv, message in [
        ([], "nothing to write"),
        (["--onnx", str(tmp_path / "x.model")], "must end in .onnx"),
        (["--out", str(tmp_path / "y.pt"), "--int8", str(tmp_path)], "give --onnx"),
        (["--onnx", str(tmp_path / "x.onnx"), "--half"], "give --out"),
    ]:
        with pytest.raises(UsageError, match=message):
            main(parse_args(["--checkpoint", str(checkpoint), *argv]))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Two frames of the sample clip as labelled photos, DIR/<class>/*.jpg."""
    import cv2

    from tests.conftest import SAMPLE

    root = tmp_path_factory.mktemp("photos")
    capture = cv2.VideoCapture(str(SAMPLE))
    for name in ("happy", "neutral"):
        ok, frame = capture.read()
        assert ok
        (root / name).mkdir()
        cv2.imwrite(str(root / name / "frame.jpg"), frame)
        for _ in range(20):
            capture.read()
    capture.release()
    return root


def test_the_int8_twin_is_also_checked_on_photos_through_the_whole_pipeline(tmp_path, folder_data, photos, monkeypatch):
    from fervideo.engine.onnx_model import OnnxModel
    from fervideo.engine.pipeline import AnalyzeOptions
    from fervideo.run.evaluation import evaluate_photos
    from training import onnx_export

    argv = ["--checkpoint", str(WEIGHTS_DIR / "fernet_lite.pt"), "--onnx", str(tmp_path / "m.onnx")]
    argv += ["--int8", str(folder_data), "--wild", str(photos)]
    monkeypatch.setattr(onnx_export, "MAX_DROP", 100.0)  # 14 val faces: one face is 7 points
    main(parse_args(argv))
    twin = tmp_path / "m.int8.onnx"
    kept = OnnxModel(twin).description["metrics"]["int8"]
    assert sorted(kept) == ["fer2013 val", "wild photos"]
    assert kept["wild photos"] == 100 * evaluate_photos(photos, AnalyzeOptions(model=str(twin)))["accuracy"]

    def worse_in_int8(path, folder):
        return 20.0 if "int8" in path.name else 90.0

    monkeypatch.setattr(onnx_export, "MAX_DROP", 50.0)
    monkeypatch.setattr(onnx_export, "photo_accuracy", worse_in_int8)
    main(parse_args(argv))
    assert not twin.exists()  # the photos alone turned it down; no stale twin is left to be taken for it
    with pytest.raises(UsageError, match="give --int8"):
        main(parse_args(argv[:4] + ["--wild", str(photos)]))
