"""fervideo analyze: videos and photos in, annotated video, CSV and JSON out."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fervideo.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_analyze_options,
    check_distinct_outputs,
    make_options,
    output_options,
    path_arg,
    printable,
)
from fervideo.cli.console import Progress, Table, err
from fervideo.core.errors import FervideoError, OutputError
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import IMAGE_SUFFIXES, OutputOptions, output_paths


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    analyze = commands.add_parser(
        "analyze",
        aliases=["analyse"],
        help="annotate videos or photos and write per-frame emotions",
        description="Analyse each INPUT into OUT_DIR: INPUT.csv, INPUT.json and the annotated video (or photo). "
        "A rerun replaces an earlier result of the same input in OUT_DIR, as a whole; --skip-existing keeps it.",
    )
    analyze.add_argument(
        "inputs", nargs="+", type=path_arg, metavar="INPUT", help="video (mp4, mov, avi, mkv, webm) or photo"
    )
    add_analyze_options(analyze)
    analyze.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip an input whose complete outputs from the same options are in OUT_DIR already",
    )
    analyze.set_defaults(run=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    """fervideo analyze: each input in turn; one bad input does not stop the others."""
    from fervideo.core.atomic import prepare_out_dir
    from fervideo.engine.pipeline import Analyzer
    from fervideo.engine.runtime import use_cores
    from fervideo.run.job import analyze_file

    options = make_options(args)
    use_cores()
    check_distinct_outputs(args.inputs, args.out_dir)
    existed = Path(args.out_dir).is_dir()
    out_dir = prepare_out_dir(args.out_dir)
    failed = 0
    try:
        with Analyzer(options) as analyzer:
            if args.verbose and not args.quiet:
                print_settings(analyzer)
            if not args.quiet:
                warn_if_no_h264(args.inputs, output_options(args))
            for path in args.inputs:
                if args.skip_existing and _completed(path, out_dir, options, args):
                    if not args.quiet:
                        err.print(f"{printable(path)}: skipped, complete in {printable(out_dir)}")
                    continue
                failed += not _run_one(path, out_dir, analyzer, args, analyze_file)
    finally:
        if not existed and out_dir.is_dir() and not any(out_dir.iterdir()):  # no result: no empty folder either
            out_dir.rmdir()
    return EXIT_FAILED if failed else EXIT_OK


def warn_if_no_h264(inputs: Sequence[Path], outputs: OutputOptions) -> None:
    """One warning line, before the first input, when H.264 is asked for but the videos will be mp4v."""
    if not outputs.write_video or outputs.codec != "h264":
        return
    if all(Path(path).suffix.lower() in IMAGE_SUFFIXES for path in inputs):  # a photo is written as it came
        return
    from fervideo.outputs.encoder import missing_h264

    if (note := missing_h264()) is not None:
        err.warning(note)


def _completed(path: Path, out_dir: Path, options: object, args: argparse.Namespace) -> bool:
    """Whether an earlier run left complete outputs of path from the same options (batch's rule)."""
    from fervideo.run.batch import completed  # only with --skip-existing: the batch machinery costs 0.1 s to import

    return completed(path, out_dir, options, output_options(args)) is not None


def _run_one(path: Path, out_dir: Path, analyzer: object, args: argparse.Namespace, analyze_file: object) -> bool:
    """One input, its errors printed as one line; whether it succeeded."""
    try:
        summary = _analyze_one(path, out_dir, analyzer, args, analyze_file)
    except FervideoError as exc:
        err.print(f"error: {printable(exc)}")
        return False
    except OSError as exc:
        message = f"{path}: could not write outputs to {out_dir}: {exc.strerror or exc}"
        err.print(f"error: {printable(message)}")
        return False
    if not args.quiet:
        _print_summary(summary)
    return True


def _analyze_one(path: Path, out_dir: Path, analyzer: object, args: argparse.Namespace, analyze_file: object) -> dict:
    from fervideo.run.owned import another_input

    # the help promises to replace a result of the same input only; one of another input named alike stays
    if (reason := another_input(output_paths(path, out_dir)["json"], path)) is not None:
        raise OutputError(reason)
    outputs = output_options(args)
    if args.quiet or not err.is_terminal:  # a bar redrawn into a log or a pipe is noise
        return analyze_file(path, out_dir, analyzer, **outputs.kwargs())
    with Progress(err, printable(path.name), rate="frames/s") as bar:
        return analyze_file(path, out_dir, analyzer, progress=bar.update, **outputs.kwargs())


def plural(n: int, noun: str) -> str:
    """'1 track', '2 tracks'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def print_settings(analyzer: object) -> None:
    """What -v prints before the run: the model, where and how it runs, and the sampling."""
    info, options, classifier = analyzer.classifier.info, analyzer.options, analyzer.classifier
    err.print(
        f"model {info.get('name')} ({info.get('checkpoint')}, sha256 {str(info.get('sha256', ''))[:12]}), "
        f"runtime {classifier.runtime} on {classifier.device}, precision {classifier.precision}, "
        f"tta {'on' if options.tta else 'off'}, smoothing {options.smooth:g} s"
    )
    sampling = options.sampling
    every = f"about {sampling.fps:g} frames/s" if sampling.fps else f"every {plural(sampling.every, 'frame')}"
    end = f"{sampling.end:g} s" if sampling.end is not None else "the end"
    detector = options.detector
    err.print(
        f"sampling {every}, from {sampling.start:g} s to {end}; detector {detector.strategy} "
        f"(min score {detector.min_score:g}, full-range every {detector.full_every})"
    )


def _print_summary(summary: dict) -> None:
    counts, proc = summary["counts"], summary["processing"]
    err.print(
        f"{err.bold(printable(summary['input']['path']))}: {plural(counts['frames_analysed'], 'frame')} analysed, "
        f"{counts['frames_with_face']} with a face, {plural(counts['tracks'], 'track')}, "
        f"{proc['frames_per_second']:.1f} frames/s"
    )
    for warning in summary["warnings"]:
        err.warning(warning)
    if summary["tracks"]:  # shares of frames on top, as the report shows them, not mean probabilities
        table = Table(
            "track",
            "frames",
            "dominant",
            *EMOTIONS,
            title="share of each track's analysed frames in which an emotion was on top",
        )
        for track in summary["tracks"]:
            on_top = track["top_emotion_frames"]
            shares = [f"{on_top[name] / max(track['frames'], 1):.0%}" for name in EMOTIONS]
            table.add_row(str(track["id"]), str(track["frames"]), track["dominant_emotion"], *shares)
        err.table(table)
    for kind, path in summary["outputs"].items():
        err.print(f"  {kind:8s} {printable(path)}")
