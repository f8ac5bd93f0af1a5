"""What every subcommand shares: the consoles, exit codes and the analysis options."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from fervideo.classifier import PRECISIONS
from fervideo.detector import STRATEGIES, DetectorConfig
from fervideo.errors import UsageError
from fervideo.layout import OutputOptions
from fervideo.models import DEFAULT_MODEL

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

err = Console(stderr=True, highlight=False, soft_wrap=True)  # an error stays one line, however long
out = Console(highlight=False, soft_wrap=True)  # results of eval and models, so that they can be piped


def printable(text: object) -> str:
    """text with control characters (newlines, terminal escape codes) written as \\n, \\x1b, ...: one safe line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


def shown(name: object) -> str:
    """A user-given name made safe inside rich markup: printable, and its brackets escaped."""
    return escape(printable(name))


def add_model_options(parser: argparse.ArgumentParser, batch_size: int = 32) -> None:
    """Options of every command that runs the classifier."""
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"registered name or checkpoint path (default: {DEFAULT_MODEL})"
    )
    parser.add_argument("--batch-size", type=int, default=batch_size, metavar="B", help="faces per classifier batch")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="classifier arithmetic; auto: bf16 where the CPU or GPU does it natively (default: auto)",
    )
    parser.add_argument(
        "--tta", action="store_true", help="average each face over 6 mirrored and cropped views (6x classifier cost)"
    )


def add_analyze_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs the analysis engine."""
    parser.add_argument("-o", "--out-dir", type=Path, default=Path("fervideo-out"), help="default: fervideo-out/")
    add_model_options(parser)
    sampling = parser.add_mutually_exclusive_group()
    sampling.add_argument("--every", type=int, default=1, metavar="N", help="analyse every N-th frame")
    sampling.add_argument("--fps", type=float, metavar="F", help="analyse about F frames per second of video")
    parser.add_argument("--start", type=float, default=0.0, metavar="SEC", help="start of the analysed range")
    parser.add_argument("--end", type=float, metavar="SEC", help="end of the analysed range")
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
    parser.add_argument(
        "--full-range-every",
        type=int,
        default=DetectorConfig.full_every,
        metavar="N",
        help="with --detector auto: run the slower full-range model on every N-th analysed frame, and on every "
        f"frame where it sees a face the short-range one misses (default: {DetectorConfig.full_every}; 1: always)",
    )
    parser.add_argument(
        "--smooth",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="average each face's probabilities over about this many seconds of video (default: 0, raw)",
    )
    parser.add_argument("--report", action="store_true", help="also write CLIP.report.html and CLIP.timeline.png")
    parser.add_argument(
        "--codec",
        default="h264",
        choices=("h264", "mp4v"),
        help="annotated video: h264 with the source's sound (plays in browsers) or OpenCV's mp4v (default: h264)",
    )
    parser.add_argument("--no-video", action="store_true", help="skip the annotated video; CSV and JSON only")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def make_options(args: argparse.Namespace) -> object:
    """AnalyzeOptions from parsed arguments; raises UsageError for values that make no sense."""
    from fervideo.pipeline import AnalyzeOptions
    from fervideo.source import Sampling

    if not 0.0 <= args.min_face_score <= 1.0:
        raise UsageError(f"--min-face-score must be between 0 and 1, not {args.min_face_score}")
    if args.full_range_every < 1:
        raise UsageError(f"--full-range-every must be 1 or more, not {args.full_range_every}")
    sampling = Sampling(every=args.every, fps=args.fps, start=args.start, end=args.end)
    detector = DetectorConfig(strategy=args.detector, min_score=args.min_face_score, full_every=args.full_range_every)
    return AnalyzeOptions(
        model=args.model,
        device=args.device,
        precision=args.precision,
        sampling=sampling,
        batch_size=args.batch_size,
        tta=args.tta,
        detector=detector,
        smooth=args.smooth,
    )


def output_options(args: argparse.Namespace) -> OutputOptions:
    """Which outputs a run writes."""
    return OutputOptions(write_video=not args.no_video, codec=args.codec, report=args.report)


def check_distinct_outputs(inputs: Sequence[Path], out_dir: Path) -> None:
    """Two inputs must never write the same output files."""
    from fervideo.job import refuse_overwriting_inputs
    from fervideo.layout import output_paths

    refuse_overwriting_inputs(list(inputs), out_dir)
    seen: dict[Path, Path] = {}
    for path in inputs:
        target = output_paths(path, out_dir)["json"]
        if target in seen:
            raise UsageError(
                f"{seen[target]} and {path} would both write {target}; run them separately or with different -o folders"
            )
        seen[target] = path
