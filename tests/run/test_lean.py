"""analyze, batch and live on the shipped models run without torch: a lean install needs only ONNX Runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def no_torch(tmp_path_factory):
    """An environment in which `import torch` (and torchvision, einops) fails, as where torch is not installed.

    `import mediapipe` and `import ai_edge_litert` fail too: fervideo runs the mediapipe models it ships, converted
    to ONNX, on ONNX Runtime; LiteRT is in the dev extra only, to compare them with the .tflite files."""
    blocker = tmp_path_factory.mktemp("no_torch")
    (blocker / "sitecustomize.py").write_text(ABSENT)
    return os.environ | {"PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}


# loaded at start-up through PYTHONPATH: the first finder asked, it answers for the torch stack as if absent
ABSENT = """
import sys

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "einops", "mediapipe", "ai_edge_litert"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked for this test)", name=name)
        return None

sys.meta_path.insert(0, Absent())
"""


def fervideo(env: dict, *argv: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fervideo", *argv], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_analyze_runs_on_onnx_without_torch(no_torch, tmp_path):
    done = fervideo(no_torch, "analyze", str(SAMPLE), "-o", str(tmp_path), "--end", "2", "--report", "-q")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "demo.json").read_text())
    assert summary["model"]["runtime"] == "onnx" and summary["model"]["name"] == "fernet_plus"
    assert summary["model"]["source_sha256"] and summary["tracks"]  # the shipped weights found the faces
    assert (tmp_path / "demo.annotated.mp4").stat().st_size > 0 and (tmp_path / "demo.report.html").is_file()


def test_batch_and_live_run_without_torch(no_torch, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(SAMPLE.read_bytes())
    done = fervideo(no_torch, "batch", str(folder), "-o", str(tmp_path / "out"), "--end", "1", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out" / "clip.json").read_text())["model"]["runtime"] == "onnx"
    live = fervideo(
        no_torch, "live", "--camera", str(SAMPLE), "--no-window", "--max-frames", "10", "--csv", str(tmp_path / "l.csv")
    )
    assert live.returncode == 0, live.stderr
    assert len((tmp_path / "l.csv").read_text().splitlines()) > 10


def test_without_torch_the_torch_runtime_is_one_clear_error(no_torch, tmp_path):
    done = fervideo(no_torch, "analyze", str(SAMPLE), "-o", str(tmp_path), "--runtime", "torch")
    assert done.returncode != 0
    assert done.stderr.strip().startswith("error:") and "torch" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not any(tmp_path.iterdir())


def test_eval_of_a_shipped_model_runs_without_torch(no_torch, folder_data):
    done = fervideo(no_torch, "eval", "--data", str(folder_data), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model"]["runtime"] == "onnx" and result["model"]["precision"] == "int8"
    assert result["n"] == 14  # 2 val faces of each class


def test_models_lists_the_shipped_onnx_models_without_torch(no_torch):
    done = fervideo(no_torch, "models", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    # no vit_b16: nothing ships
    assert sorted(rows) == ["cnn", "fernet", "fernet_balanced", "fernet_lite", "fernet_plus", "vit"]
    assert rows["fernet_plus"]["default"] and rows["fernet_plus"]["parameters"] == 2_639_479
    assert "torch is not installed" in done.stderr and "pip install torch torchvision einops" in done.stderr
    table = fervideo(no_torch, "models")
    assert table.returncode == 0 and "fernet_plus (default)" in table.stdout and "1,480,743" in table.stdout


def test_a_torch_checkpoint_without_torch_says_how_to_get_it(no_torch, tmp_path):
    done = fervideo(no_torch, "analyze", str(SAMPLE), "-o", str(tmp_path), "--model", "fervideo/weights/fernet.pt")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error:")
    assert "pip install torch torchvision einops" in done.stderr and not any(tmp_path.iterdir())
