"""fervideo live: a webcam (or a file or stream) annotated as it happens."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from fervideo.cli.common import (
    DEFAULT_SMOOTH,
    EXIT_OK,
    add_detector_options,
    add_every_frame,
    add_model_options,
    add_quiet,
    make_options,
    path_arg,
    seconds,
)
from fervideo.cli.console import err
from fervideo.core.errors import UsageError


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    live = commands.add_parser("live", help="annotate a webcam, file or stream live, newest frame first")
    live.add_argument("--camera", default="0", metavar="INDEX_OR_PATH_OR_URL", help="default: camera 0")
    add_model_options(live, batch_size=16)
    live.add_argument("--no-window", action="store_true", help="run headless (servers, tests)")
    live.add_argument(
        "--record", type=path_arg, metavar="OUT.mp4", help="write the annotated stream at real time (mp4v, no sound)"
    )
    live.add_argument("--csv", type=path_arg, metavar="OUT.csv", help="write analyze's CSV, time_s from the wall clock")
    live.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    live.add_argument(
        "--smooth",
        type=seconds,
        default=DEFAULT_SMOOTH,
        metavar="SECONDS",
        help="average each face's probabilities over about this many seconds; 0: raw",
    )
    add_every_frame(live)
    add_detector_options(live)
    add_quiet(live)
    live.set_defaults(run=run_live)


def has_display() -> bool:
    """Whether a window can open: on Linux an X or Wayland display must be named, or Qt aborts the process."""
    return not sys.platform.startswith("linux") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def has_windows() -> bool:
    """Whether this OpenCV build can open a window: opencv-python-headless, the one fervideo installs, cannot."""
    import cv2

    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GUI:"):
            return line.split(":", 1)[1].strip() != "NONE"
    return True


def outputs(args: argparse.Namespace) -> list[Path]:
    """The files live mode writes: with --csv, its JSON summary beside it too."""
    summary = [args.csv.with_suffix(".json")] if args.csv is not None else []
    return [path for path in (args.record, args.csv) if path is not None] + summary


def missing_folders(paths: list[Path]) -> list[Path]:
    """The folders above paths that are not there yet, deepest first: those the run makes."""
    missing = {folder for path in paths for folder in [path.parent, *path.parent.parents] if not folder.exists()}
    return sorted(missing, key=lambda folder: len(folder.absolute().parts), reverse=True)


def remove_empty(folders: list[Path]) -> None:
    """Remove those of folders (deepest first) that the run made and left empty."""
    for folder in folders:
        if folder.is_dir() and not any(folder.iterdir()):
            with contextlib.suppress(OSError):  # taken by someone else meanwhile: theirs to keep
                folder.rmdir()


def run_live(args: argparse.Namespace) -> int:
    """Run until q/Esc, Ctrl-C, --max-frames or the end of the stream; then print what it cost."""
    from fervideo.core.atomic import prepare_out_dir, special_kind
    from fervideo.engine.pipeline import Analyzer
    from fervideo.run.live import LiveOptions, run_live

    if not args.no_window and not has_display():
        raise UsageError("no display: use --no-window (and --record or --csv to keep what it sees)")
    if not args.no_window and not has_windows():
        raise UsageError(
            "this OpenCV (opencv-python-headless) opens no window: use --no-window (and --record or --csv), or "
            "swap in the build with one: pip uninstall -y opencv-python-headless && pip install opencv-python"
        )
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f"--max-frames must be 1 or more, not {args.max_frames}")
    if args.record is not None and args.csv is not None and args.record.resolve() == args.csv.resolve():
        raise UsageError(f"--record and --csv both name {args.record}; give the video and the CSV their own files")
    if args.record is not None and args.csv is not None and args.record.parent.resolve() != args.csv.parent.resolve():
        # they are put in place together, in one folder's commit: found out at the end, the run would be lost
        raise UsageError(f"--record {args.record} and --csv {args.csv} must be in one folder; put them side by side")
    camera = Path(args.camera)
    if not args.camera.isdigit() and camera.exists() and any(p.resolve() == camera.resolve() for p in outputs(args)):
        raise UsageError(f"{args.camera} is the input; --record and --csv must name other files")
    for flag, path, example in (("--record", args.record, "live.mp4"), ("--csv", args.csv, "live.csv")):
        if path is not None and (kind := special_kind(path)) is not None:  # a rename would replace it with a file
            advice = f"a file in it, such as {path / example}" if kind == "a directory" else "a file's name"
            raise UsageError(f"{flag} {path} is {kind}, not a file; give {advice}")
    if args.csv is not None:  # report and export find the summary there: it may be neither the CSV nor the recording
        summary = args.csv.with_suffix(".json")
        if summary.resolve() in [path.resolve() for path in (args.csv, args.record) if path is not None]:
            raise UsageError(f"--csv {args.csv}: its JSON summary would go to {summary}, which --csv or --record names")
        if (kind := special_kind(summary)) is not None:
            raise UsageError(f"{summary}, where the JSON beside --csv goes, is {kind}; give --csv another name")
    args.every, args.fps, args.start, args.end = 1, None, 0.0, None
    analyze_options = make_options(args)  # checks the values before any folder is made
    made = missing_folders([path for path in (args.record, args.csv) if path is not None])
    options = LiveOptions(args.camera, not args.no_window, args.record, args.csv, args.max_frames, args.smooth)
    try:
        for path in (args.record, args.csv):
            if path is not None:
                prepare_out_dir(path.parent)
        with Analyzer(analyze_options) as analyzer:
            stats = run_live(analyzer, options)
    finally:  # a camera that does not open, or a run stopped before its first frame: no empty folder either
        remove_empty(made)
    if stats.lost and not args.quiet:
        err.warning(stats.lost)
    if not args.quiet:
        err.print(
            f"{stats.shown} frames shown, {stats.dropped} dropped; "
            f"latency p50 {stats.percentile(50):.1f} ms, p95 {stats.percentile(95):.1f} ms"
        )
    return EXIT_OK
