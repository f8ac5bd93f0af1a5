"""fervideo analyze: videos and photos in, annotated video, CSV and JSON out."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from fervideo.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_analyze_options,
    check_distinct_outputs,
    err,
    make_options,
    output_options,
    printable,
    shown,
)
from fervideo.errors import FervideoError
from fervideo.labels import EMOTIONS


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    analyze = commands.add_parser("analyze", help="annotate videos or photos and write per-frame emotions")
    analyze.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="video (mp4, mov, avi, mkv, webm) or photo"
    )
    add_analyze_options(analyze)
    analyze.set_defaults(run=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    """fervideo analyze: each input in turn; one bad input does not stop the others."""
    from fervideo.job import analyze_file
    from fervideo.pipeline import Analyzer, use_cores
    from fervideo.sinks import prepare_out_dir

    options = make_options(args)
    use_cores()
    check_distinct_outputs(args.inputs, args.out_dir)
    out_dir = prepare_out_dir(args.out_dir)
    failed = 0
    with Analyzer(options) as analyzer:
        for path in args.inputs:
            try:
                summary = _analyze_one(path, out_dir, analyzer, args, analyze_file)
            except FervideoError as exc:
                err.print(f"error: {printable(exc)}", markup=False)
                failed += 1
                continue
            except OSError as exc:
                message = f"{path}: could not write outputs to {out_dir}: {exc.strerror or exc}"
                err.print(f"error: {printable(message)}", markup=False)
                failed += 1
                continue
            if not args.quiet:
                _print_summary(summary)
    return EXIT_FAILED if failed else EXIT_OK


def _analyze_one(path: Path, out_dir: Path, analyzer: object, args: argparse.Namespace, analyze_file: object) -> dict:
    outputs = output_options(args)
    if args.quiet or not err.is_terminal:  # a bar redrawn into a log or a pipe is noise
        return analyze_file(path, out_dir, analyzer, **outputs.kwargs())
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]:.1f} frames/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(shown(path.name), total=None, fps=0.0)
        tic = time.perf_counter()

        def progress(done: int, expected: int) -> None:
            if expected and done <= expected:
                bar.update(task, total=expected)
            bar.update(task, completed=done, fps=done / max(time.perf_counter() - tic, 1e-9))

        return analyze_file(path, out_dir, analyzer, progress=progress, **outputs.kwargs())


def _print_summary(summary: dict) -> None:
    counts, proc = summary["counts"], summary["processing"]
    err.print(
        f"[bold]{shown(summary['input']['path'])}[/]: {counts['frames_analysed']} frames analysed, "
        f"{counts['frames_with_face']} with a face, {counts['tracks']} tracks, "
        f"{proc['frames_per_second']:.1f} frames/s"
    )
    for warning in summary["warnings"]:
        err.print(Text.assemble(("warning:", "yellow"), f" {warning}"))
    if summary["tracks"]:
        table = Table("track", "frames", "dominant", *EMOTIONS, box=None)
        for track in summary["tracks"]:
            probs = [f"{track['mean_probs'][name]:.2f}" for name in EMOTIONS]
            table.add_row(str(track["id"]), str(track["frames"]), track["dominant_emotion"], *probs)
        err.print(table)
    for kind, path in summary["outputs"].items():
        err.print(f"  {kind:8s} {printable(path)}", markup=False)
