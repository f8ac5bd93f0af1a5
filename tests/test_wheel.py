"""The wheel is the product: built from the checkout, installed beside numpy 2 and pandas 3 without touching them.

Slow (about 2 minutes: a build, a fresh venv, PyPI downloads), so it runs only with FERVIDEO_TEST_WHEEL=1, which
.ci/run sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(os.environ.get("FERVIDEO_TEST_WHEEL") != "1", reason="set FERVIDEO_TEST_WHEEL=1 to build it"),
]
SHIPPED = ["face_detection_short_range.tflite", "face_detection_full_range_sparse.tflite", "LICENSE-mediapipe"]
# the library API from the installed package, on matplotlib's public-domain portrait
PHOTO = """
import fervideo
from matplotlib import cbook
print(fervideo.__file__, len(fervideo.analyze_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))))
"""


def call(*argv: str | Path, cwd: Path, timeout: float = 900) -> str:
    """Run a command to completion; its stdout, or a failure that shows its output."""
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, argv))}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def versions(python: Path, cwd: Path) -> dict[str, str]:
    code = "import json, numpy, pandas; print(json.dumps({'numpy': numpy.__version__, 'pandas': pandas.__version__}))"
    return json.loads(call(python, "-c", code, cwd=cwd))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `python -m build` makes of the checkout (from its sdist, so nothing is built inside the tree)."""
    out = tmp_path_factory.mktemp("dist")
    call(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out)
    (found,) = out.glob("fervideo-*.whl")
    return found


def test_the_wheel_holds_the_models_and_their_licence(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert all(f"fervideo/weights/{name}" in names for name in [*SHIPPED, "NOTICE", "README.md"])
    assert "fervideo/weights/fernet_plus.int8.onnx" in names
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert not any(name in line for line in requires for name in ("mediapipe", "tflite-runtime", "numpy<2"))
    assert any("ai-edge-litert" in line for line in requires)


def test_it_installs_beside_numpy_2_and_pandas_3_and_analyses_the_sample(wheel, tmp_path):
    venv = tmp_path / "venv"
    call(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    call(python, "-m", "pip", "install", "--quiet", "numpy>=2", "pandas>=3", cwd=tmp_path)
    before = versions(python, tmp_path)
    call(python, "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)
    assert versions(python, tmp_path) == before  # kept, not downgraded
    call(python, "-m", "pip", "check", cwd=tmp_path)
    clip = tmp_path / "demo.mp4"  # away from the checkout: the installed package and its weights do the work
    clip.write_bytes(SAMPLE.read_bytes())
    call(bin_dir / "fervideo", "analyze", clip, "-o", tmp_path / "out", "-q", cwd=tmp_path)
    summary = json.loads((tmp_path / "out" / "demo.json").read_text())
    assert summary["tracks"] and summary["model"]["runtime"] == "onnx"
    assert (tmp_path / "out" / "demo.annotated.mp4").stat().st_size > 0
    where, faces = call(python, "-c", PHOTO, cwd=tmp_path).split()
    assert Path(where).is_relative_to(venv) and faces == "1"
