"""The command line's conventions (issue 15): times as ffmpeg reads them, the analyse alias, defaults in --help,
-q/-v, --skip-existing, batch in a log, no empty folder after a failure, live without a display."""

from __future__ import annotations

import argparse
import importlib
import time

import pytest

from fervideo.cli import build_parser
from fervideo.cli.values import parse_time
from tests.conftest import SAMPLE
from tests.helpers import one_error_line, read_csv, read_json, run, video_shape


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("12.5", 12.5), ("1:30", 90), ("01:30.25", 90.25), ("00:01:30.5", 90.5), ("1:02:03", 3723)],
)
def test_times_read_as_seconds_mm_ss_or_hh_mm_ss(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1:60", "-5", "a:b", "1::2", "1:2:3:4", "1.5:00", "", "nan"])
def test_a_time_that_is_not_one_is_a_usage_error(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_time(text)


def test_start_and_end_as_clock_times_cut_the_range(tmp_path, capsys):
    code, err = run(capsys, "analyse", str(SAMPLE), "-o", str(tmp_path), "--start", "0:01", "--end", "00:00:02.5")
    assert code == 0, err
    times = [float(row["time_s"]) for row in read_csv(tmp_path / "demo.csv")]
    assert min(times) >= 1.0 - 1e-6 and max(times) < 2.5
    code, err = run(capsys, "analyze", str(SAMPLE), "-o", str(tmp_path), "--start", "1:75")
    assert code == 2 and "--start" in one_error_line(err)


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser, and the training and benchmark scripts' parsers."""
    found = {}
    for action in build_parser()._subparsers._group_actions:
        found |= {f"fervideo {name}": parser for name, parser in action.choices.items()}
    for module in ("train", "export", "pack", "visualize", "calibrate_crop"):
        mod = importlib.import_module(f"training.{module}")
        parse = getattr(mod, "parse_args", None)
        if parse is not None:
            found[f"training.{module}"] = _capture_parser(parse)
    return found


def _capture_parser(parse: object) -> argparse.ArgumentParser:
    """The parser a script's parse_args builds, caught as it parses --help."""
    caught = {}
    real = argparse.ArgumentParser.parse_args

    def catch(self, *args, **kwargs):
        caught["parser"] = self
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = catch
    try:
        with pytest.raises(SystemExit):
            parse(["--help"])
    finally:
        argparse.ArgumentParser.parse_args = real
    return caught["parser"]


def test_every_option_has_help_and_shows_its_default():
    for name, parser in parsers().items():
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            assert action.help, f"{name} {action.option_strings[0]} has no help text"
            text = formatter._expand_help(action) if "%" in action.help else formatter._get_help_string(action)
            if action.default not in (None, False, argparse.SUPPRESS):
                assert "default" in text, f"{name} {action.option_strings[0]}: --help does not show its default"


def test_training_scripts_name_themselves_as_they_are_run():
    assert parsers()["training.train"].prog == "python -m training.train"


def test_analyse_is_analyze_and_quiet_is_q(tmp_path, capsys):
    code, err = run(capsys, "analyse", str(SAMPLE), "-o", str(tmp_path), "--every", "10", "--no-video", "-q")
    assert code == 0 and err == ""
    assert read_json(tmp_path / "demo.json")["counts"]["frames_analysed"] == 15


def test_verbose_prints_the_settings_first(tmp_path, capsys):
    argv = ["analyze", str(SAMPLE), "-o", str(tmp_path), "--every", "10", "--no-video", "-v", "--device", "cpu"]
    code, err = run(capsys, *argv)  # on the CPU: auto on a GPU machine would name torch's CUDA
    assert code == 0, err
    first = err.splitlines()[0]
    assert first.startswith("model fernet_plus") and "sha256" in first and "precision int8" in first
    assert "runtime onnx on cpu" in first
    assert "every 10 frames" in err and "detector auto" in err


def test_counts_are_singular_for_one():
    from fervideo.cli.analyze import plural

    assert (plural(1, "track"), plural(2, "track"), plural(0, "frame")) == ("1 track", "2 tracks", "0 frames")


def test_skip_existing_keeps_a_complete_result_and_redoes_a_changed_one(tmp_path, capsys):
    args = ["analyze", str(SAMPLE), "-o", str(tmp_path), "--every", "10", "--no-video"]
    assert run(capsys, *args)[0] == 0
    stamp = (tmp_path / "demo.json").stat().st_mtime_ns
    code, err = run(capsys, *args, "--skip-existing")
    assert code == 0 and "skipped, complete in" in err
    assert (tmp_path / "demo.json").stat().st_mtime_ns == stamp
    code, err = run(capsys, *args[:4], "--every", "15", "--no-video", "--skip-existing")  # other options: redone
    assert code == 0 and "skipped" not in err
    assert read_json(tmp_path / "demo.json")["counts"]["frames_analysed"] == 10


def test_a_failed_input_leaves_no_empty_output_folder(tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    code, err = run(capsys, "analyze", str(broken), "-o", str(tmp_path / "new"))
    assert code == 1 and "broken.mp4" in one_error_line(err)
    assert not (tmp_path / "new").exists()


def test_batch_in_a_log_prints_a_line_per_input_naming_each_path_once(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "demo.mp4").write_bytes(SAMPLE.read_bytes())
    (folder / "broken.mp4").write_bytes(b"not a video at all")
    code, err = run(capsys, "batch", str(folder), "-o", str(tmp_path / "out"), "--every", "15", "--no-video")
    assert code == 1  # stderr is not a terminal here: no live board, a line as each input ends
    lines = err.splitlines()
    assert any(line.startswith("[") and " ok " in line and "demo.mp4" in line for line in lines), err
    failed = [line for line in lines if "broken.mp4" in line]
    assert failed and all(line.count("broken.mp4") == 1 for line in failed), err


def test_live_without_a_display_says_so_instead_of_crashing(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    code, err = run(capsys, "live", "--camera", str(SAMPLE), "--max-frames", "1")
    assert code == 2 and "no display: use --no-window" in one_error_line(err)


def test_live_records_at_real_time_when_frames_are_dropped(tmp_path):
    from fervideo.run.live import LiveOptions, run_live
    from tests.helpers import scripted_analyzer

    analyzer = scripted_analyzer()
    real = analyzer.analyze_frame

    def slow(frame, tracker, time_s):  # a third of the camera's rate: two frames in three are dropped
        time.sleep(3 / 25)
        return real(frame, tracker, time_s)

    analyzer.analyze_frame = slow
    record = tmp_path / "live.mp4"
    stats = run_live(analyzer, LiveOptions(str(SAMPLE), window=False, record=record, max_frames=12))
    assert stats.dropped >= 12
    frames = video_shape(record)[0]
    assert frames >= 2.5 * stats.shown  # the dropped frames' time is filled, so it plays as long as it ran


def test_help_needs_no_torch():
    import subprocess
    import sys

    from tests.conftest import ROOT

    probe = (
        "import sys\nfrom fervideo.cli import build_parser\nbuild_parser().format_help()\n"
        "print(sorted(m for m in ('torch', 'mediapipe', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr  # --help answers at once
