"""The scripts in benchmarks/: each parses the commands the docs quote, turns a bad value away in one line (no
traceback), and says in one line which package it lacks. No timing is asserted: the figures belong to the scripts."""

from __future__ import annotations

import argparse
import importlib
import re
import runpy
import sys

import pytest

from tests.conftest import ROOT, SHARED

BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "cli_args")
DEMO = str(ROOT / "samples" / "demo.mp4")


@pytest.fixture
def script(monkeypatch, capsys):
    """Run benchmarks/NAME.py in this process as `python benchmarks/NAME.py ARGS`: (exit status, stdout, stderr)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as when the script runs: its siblings import by name
    monkeypatch.chdir(ROOT)

    def run(name: str, *argv: str) -> tuple[int, str, str]:
        path = BENCHMARKS / f"{name}.py"
        monkeypatch.setattr(sys, "argv", [str(path), *argv])
        try:
            runpy.run_path(str(path), run_name="__main__")
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line_error(code: int, err: str, *words: str) -> None:
    """An exit status of 2 and an error that is one line naming words, after at most argparse's usage."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("usage:", " "))]
    assert len(lines) == 1, err
    assert ": error: " in lines[0]
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_has_help(script, name):
    code, out, _ = script(name, "--help")
    assert code == 0
    assert out.startswith("usage:")


BAD = [
    ("adaptive", ["--loop", "0"], "--loop"),  # -stream_loop -1: ffmpeg would loop for ever
    ("adaptive", ["--factor", "0"], "--factor"),
    ("adaptive", ["--video", "/nonexistent/clip.mp4"], "not found"),
    ("batch", ["--copies", "0"], "--copies"),
    ("batch", ["--workers", "-1"], "--workers"),
    ("blazeface", ["--frames", "0"], "--frames"),
    ("classify", ["--seconds", "-1"], "--seconds"),
    ("classify", ["--batch-sizes", "0"], "--batch-sizes"),
    ("classify", ["--threads", "0"], "--threads"),
    ("face_models", ["--calls", "0"], "--calls"),
    ("headpose", ["--data", "/nonexistent/aflw"], "not found"),
    ("headpose", ["--data", str(ROOT), "--limit", "0"], "--limit"),
    ("lean", ["--repeat", "0"], "--repeat"),
    ("lean", ["--video", "/nonexistent/clip.mp4"], "not found"),
    ("litert_onnx", ["--repeat", "-2"], "--repeat"),
    ("long_clip", ["--minutes", "0"], "--minutes"),
    ("long_clip", ["--fps", "nan"], "--fps"),
    ("memory", ["--min-frames", "0"], "--min-frames"),
    ("prior", ["--data", str(ROOT), "--labels", "/nonexistent.csv", "--wild", str(ROOT)], "/nonexistent.csv"),
    ("ranks", ["--data", "/nonexistent/fer", "--wild", str(ROOT)], "not found"),
    ("smoothing", ["/nonexistent/clip.mp4"], "not found"),
    ("smoothing", [DEMO, "--seconds", "-0.2"], "--seconds"),
    ("stages", ["--loop", "0"], "--loop"),
    ("stages", ["--video", "/nonexistent/clip.mp4"], "not found"),
    ("stops", ["--runs", "0"], "--runs"),
    ("throughput", ["--every", "0"], "--every"),
    ("zoo", ["--data", "/nonexistent/fer"], "not found"),
]


@pytest.mark.parametrize(("name", "argv", "word"), BAD, ids=[f"{n} {' '.join(a)}" for n, a, _ in BAD])
def test_a_bad_argument_is_one_line(script, name, argv, word):
    one_line_error(*script(name, *argv)[::2], word)


def test_an_unknown_model_is_one_line(script):
    one_line_error(*script("classify", "--models", "nope", "--batch-sizes", "1", "--seconds", "0.01")[::2], "nope")


def test_zoo_needs_the_ferplus_votes(script, tmp_path):
    one_line_error(*script("zoo", "--data", str(tmp_path))[::2], "ferplus.csv", "--ferplus")


def test_ranks_needs_photos(script, tmp_path):
    one_line_error(*script("ranks", "--data", str(tmp_path), "--wild", str(tmp_path))[::2], "no photos")


@pytest.mark.parametrize(
    ("name", "module", "argv"),
    [
        ("blazeface", "mediapipe", ["--video", DEMO, "--frames", "1"]),
        ("litert_onnx", "ai_edge_litert", ["--video", DEMO, "--frames", "1"]),
        ("face_models", "onnx", []),
    ],
)
def test_a_missing_package_is_one_line(script, monkeypatch, name, module, argv):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    one_line_error(*script(name, *argv)[::2], module)


def test_headpose_without_scipy_is_one_line(script, monkeypatch, tmp_path):
    (tmp_path / "image00001.jpg").write_bytes(b"")
    (tmp_path / "image00001.mat").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "scipy", None)
    one_line_error(*script("headpose", "--data", str(tmp_path))[::2], "scipy")


def test_classify_prints_numbers(script):
    code, out, err = script("classify", "--models", "cnn", "--batch-sizes", "1", "2", "--seconds", "0.05")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("cnn "))
    assert all(float(n) > 0 for n in row.split()[1:3])


def test_zoo_makes_the_json_folder(script, monkeypatch, tmp_path):
    """--json runs/zoo.json, as the docs quote it, in a checkout without runs/: written, not lost at the end."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    zoo = importlib.import_module("zoo")
    monkeypatch.setattr(zoo, "measure", lambda name, *_: {"model": name, "faces_per_s": 1.0})
    (tmp_path / "ferplus.csv").write_text("")
    out = tmp_path / "runs" / "zoo.json"
    monkeypatch.setattr(sys, "argv", ["zoo.py", "--data", str(tmp_path), "--models", "cnn", "--json", str(out)])
    zoo.main()
    assert '"model": "cnn"' in out.read_text()


def test_smoothing_reads_every_face_of_every_frame(monkeypatch, tmp_path):
    """Raw labels: the adaptive default carries faces between readings, which would calm the raw labels too."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    smoothing = importlib.import_module("smoothing")
    asked = {}
    monkeypatch.setattr(smoothing, "analyze_video", lambda clip, **options: asked.update(options) or [])
    smoothing.raw_series(tmp_path / "clip.mp4")
    assert asked.get("every_frame") is True


# --- the commands docs/benchmarks.md and docs/models.md quote -------------------------------------------------

QUOTED = sorted(
    {
        (m.group(1), m.group(2).strip())
        for doc in ("docs/benchmarks.md", "docs/models.md")
        for m in re.finditer(r"python benchmarks/(\w+)\.py([^`\n]*)", (ROOT / doc).read_text())
    }
)


class Parsed(Exception):
    """Raised in place of running a benchmark once its command line has parsed."""


@pytest.mark.parametrize(("name", "argv"), QUOTED, ids=[f"{n} {a}" for n, a in QUOTED])
def test_the_docs_commands_parse(script, monkeypatch, name, argv):
    if "../shared" in argv and not SHARED.is_dir():
        pytest.skip(f"{SHARED} is missing: the command names its data")
    parse = argparse.ArgumentParser.parse_args

    def parse_only(self, *args, **kwargs):
        parse(self, *args, **kwargs)
        raise Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_only)
    with pytest.raises(Parsed):
        script(name, *argv.split())
