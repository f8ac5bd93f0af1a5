"""The command line: the only module that prints, shows progress and chooses exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from fervideo import __version__
from fervideo.detector import STRATEGIES, DetectorConfig
from fervideo.errors import FervideoError, OutputError, UsageError
from fervideo.labels import EMOTIONS
from fervideo.models import DEFAULT_MODEL

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

err = Console(stderr=True, highlight=False, soft_wrap=True)  # an error stays one line, however long


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = argparse.ArgumentParser(prog="fervideo", description="Read the emotions on the faces in a video.")
    parser.add_argument("--version", action="version", version=f"fervideo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    analyze = commands.add_parser("analyze", help="annotate videos or photos and write per-frame emotions")
    analyze.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="video (mp4, mov, avi, mkv, webm) or photo"
    )
    add_analyze_options(analyze)
    return parser


def add_analyze_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs the analysis engine."""
    parser.add_argument("-o", "--out-dir", type=Path, default=Path("fervideo-out"), help="default: fervideo-out/")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"registered name or checkpoint path (default: {DEFAULT_MODEL})"
    )
    sampling = parser.add_mutually_exclusive_group()
    sampling.add_argument("--every", type=int, default=1, metavar="N", help="analyse every N-th frame")
    sampling.add_argument("--fps", type=float, metavar="F", help="analyse about F frames per second of video")
    parser.add_argument("--start", type=float, default=0.0, metavar="SEC", help="start of the analysed range")
    parser.add_argument("--end", type=float, metavar="SEC", help="end of the analysed range")
    parser.add_argument("--batch-size", type=int, default=64, metavar="B", help="faces per classifier batch")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--min-face-score",
        type=float,
        default=DetectorConfig.min_score,
        metavar="S",
        help=f"detector confidence threshold (default: {DetectorConfig.min_score})",
    )
    parser.add_argument(
        "--detector",
        default="auto",
        choices=STRATEGIES,
        help="mediapipe model: auto (both, merged), short (close-ups), full (far faces)",
    )
    parser.add_argument("--no-video", action="store_true", help="skip the annotated video; CSV and JSON only")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def make_options(args: argparse.Namespace) -> object:
    """AnalyzeOptions from parsed arguments; raises UsageError for values that make no sense."""
    from fervideo.pipeline import AnalyzeOptions
    from fervideo.source import Sampling

    if not 0.0 <= args.min_face_score <= 1.0:
        raise UsageError(f"--min-face-score must be between 0 and 1, not {args.min_face_score}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be 1 or more, not {args.batch_size}")
    sampling = Sampling(every=args.every, fps=args.fps, start=args.start, end=args.end)
    detector = DetectorConfig(strategy=args.detector, min_score=args.min_face_score)
    return AnalyzeOptions(
        model=args.model, device=args.device, sampling=sampling, batch_size=args.batch_size, detector=detector
    )


def check_distinct_outputs(inputs: Sequence[Path], out_dir: Path) -> None:
    """Two inputs must never write the same output files."""
    from fervideo.job import output_paths

    seen: dict[Path, Path] = {}
    for path in inputs:
        target = output_paths(path, out_dir)["json"]
        if target in seen:
            raise UsageError(
                f"{seen[target]} and {path} would both write {target}; run them separately or with different -o folders"
            )
        seen[target] = path


def run_analyze(args: argparse.Namespace) -> int:
    """fervideo analyze: each input in turn; one bad input does not stop the others."""
    from fervideo.job import analyze_file
    from fervideo.pipeline import Analyzer
    from fervideo.sinks import prepare_out_dir

    options = make_options(args)
    check_distinct_outputs(args.inputs, args.out_dir)
    out_dir = prepare_out_dir(args.out_dir)
    failed = 0
    with Analyzer(options) as analyzer:
        for path in args.inputs:
            try:
                summary = _analyze_one(path, out_dir, analyzer, args, analyze_file)
            except FervideoError as exc:
                err.print(f"error: {exc}", markup=False)
                failed += 1
                continue
            except OSError as exc:
                err.print(f"error: {path}: could not write outputs to {out_dir}: {exc.strerror or exc}", markup=False)
                failed += 1
                continue
            if not args.quiet:
                _print_summary(summary)
    return EXIT_FAILED if failed else EXIT_OK


def _analyze_one(path: Path, out_dir: Path, analyzer: object, args: argparse.Namespace, analyze_file: object) -> dict:
    if args.quiet:
        return analyze_file(path, out_dir, analyzer, write_video=not args.no_video)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]:.1f} frames/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(path.name, total=None, fps=0.0)
        tic = time.perf_counter()

        def progress(done: int, expected: int) -> None:
            if expected and done <= expected:
                bar.update(task, total=expected)
            bar.update(task, completed=done, fps=done / max(time.perf_counter() - tic, 1e-9))

        return analyze_file(path, out_dir, analyzer, write_video=not args.no_video, progress=progress)


def _print_summary(summary: dict) -> None:
    counts, proc = summary["counts"], summary["processing"]
    err.print(
        f"[bold]{summary['input']['path']}[/]: {counts['frames_analysed']} frames analysed, "
        f"{counts['frames_with_face']} with a face, {counts['tracks']} tracks, "
        f"{proc['frames_per_second']:.1f} frames/s"
    )
    for warning in summary["warnings"]:
        err.print(f"[yellow]warning:[/] {warning}", markup=True)
    if summary["tracks"]:
        table = Table("track", "frames", "dominant", *EMOTIONS, box=None)
        for track in summary["tracks"]:
            probs = [f"{track['mean_probs'][name]:.2f}" for name in EMOTIONS]
            table.add_row(str(track["id"]), str(track["frames"]), track["dominant_emotion"], *probs)
        err.print(table)
    for kind, path in summary["outputs"].items():
        err.print(f"  {kind:5s} {path}", markup=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, turn every known failure into one line and an exit code."""
    args = build_parser().parse_args(argv)
    try:
        return {"analyze": run_analyze}[args.command](args)
    except UsageError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_USAGE
    except (FervideoError, OutputError) as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("interrupted; unfinished outputs were removed", markup=False)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line, the traceback on request
        if os.environ.get("FERVIDEO_DEBUG"):
            raise
        err.print(
            f"error: internal error ({type(exc).__name__}: {exc}); set FERVIDEO_DEBUG=1 for the traceback", markup=False
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
