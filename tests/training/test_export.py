"""training.export: a shipped checkpoint is the trained one, without its training state, at half size if asked."""

import signal

import numpy as np
import pytest
import torch

from fervideo.core.errors import OutputError, UsageError
from fervideo.engine.checkpoint import load_checkpoint, save_checkpoint
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.models import create_model, get_entry
from tests.helpers import small_fer_csv
from training.export import cli, main, parse_args


@pytest.fixture
def trained(tmp_path):
    torch.manual_seed(0)
    model = create_model("fernet", width=8)
    path = tmp_path / "run.pt"
    save_checkpoint(path, model, "fernet", get_entry("fernet").preprocess, {"val_accuracy": 0.5}, hp={"lr": 0.05})
    return path


@pytest.mark.parametrize("half", [False, True])
def test_export_keeps_the_model_and_its_description(trained, tmp_path, half):
    out = main(parse_args(["--checkpoint", str(trained), "--out", str(tmp_path / "ship.pt")] + ["--half"] * half))
    payload = load_checkpoint(out)
    assert payload["metrics"] == {"val_accuracy": 0.5} and payload["hp"] == {"lr": 0.05}
    floats = {t.dtype for t in payload["state_dict"].values() if t.is_floating_point()}
    assert floats == {torch.float16 if half else torch.float32}
    faces = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    before = EmotionClassifier.load(str(trained), "cpu", precision="fp32").predict(faces)
    after = EmotionClassifier.load(str(out), "cpu", precision="fp32").predict(faces)
    np.testing.assert_allclose(after, before, atol=1e-2 if half else 1e-6)  # float16 rounds, nothing more
    if half:
        assert out.stat().st_size < 0.6 * trained.stat().st_size


def test_export_will_not_overwrite_its_source(trained):
    with pytest.raises(UsageError, match="another file"):
        main(parse_args(["--checkpoint", str(trained), "--out", str(trained)]))


def test_export_can_ship_a_run_under_another_name_of_its_architecture(trained, tmp_path):
    out = main(parse_args(["--checkpoint", str(trained), "--name", "fernet_lite", "--out", str(tmp_path / "l.pt")]))
    payload = load_checkpoint(out)
    assert payload["arch"] == "fernet_lite" and payload["renamed_from"] == "fernet"
    assert payload["config"]["width"] == 8  # the run's own shape, not the name's default
    assert EmotionClassifier.load(str(out), "cpu").info["arch"] == "fernet_lite"
    with pytest.raises(UsageError, match="not a registered name for this 'fernet' model"):
        main(parse_args(["--checkpoint", str(trained), "--name", "cnn", "--out", str(tmp_path / "c.pt")]))
    assert not (tmp_path / "c.pt").exists()


def test_export_will_not_overwrite_its_data(trained, tmp_path):
    fer_csv = small_fer_csv(tmp_path / "fer2013.csv")
    before = fer_csv.read_bytes()
    with pytest.raises(UsageError, match="--out"):
        main(parse_args(["--checkpoint", str(trained), "--out", str(fer_csv), "--calibrate", str(fer_csv)]))
    assert fer_csv.read_bytes() == before


def test_export_under_a_file_is_one_line(trained, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="file"):
        main(parse_args(["--checkpoint", str(trained), "--out", str(tmp_path / "file" / "ship.pt")]))


def test_a_stopped_export_leaves_no_file_and_no_traceback(trained, tmp_path, monkeypatch, capsys, plain_ctrl_c):
    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", stopped)
    with pytest.raises(SystemExit) as stop:
        cli(["--checkpoint", str(trained), "--out", str(tmp_path / "out" / "ship.pt")])
    assert stop.value.code == 128 + signal.SIGINT and "Traceback" not in capsys.readouterr().err
    assert list((tmp_path / "out").iterdir()) == []
