"""What every subcommand shares: exit codes, safe names and the analysis options."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fervideo.cli.draw import add_draw_option
from fervideo.cli.people import add_people_options
from fervideo.cli.values import export_formats, parse_time, path_arg, seconds
from fervideo.core.choices import DEFAULT_MODEL, PRECISIONS, RUNTIMES
from fervideo.core.errors import UsageError
from fervideo.core.layout import OutputOptions
from fervideo.engine.detector import STRATEGIES, DetectorConfig

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# halves the changes of the top label on real clips for 0.13 s of delay (benchmarks/smoothing.py, docs/how-it-works.md)
DEFAULT_SMOOTH = 0.2


def printable(text: object) -> str:
    """text with control characters (newlines, terminal escape codes) written as \\n, \\x1b, ...: one safe line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help with every option's default shown, where the help text does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default is None or default is False or default == argparse.SUPPRESS:
            return text
        if not action.option_strings:
            return text
        shown_default = default.as_posix() + "/" if isinstance(default, Path) else default
        return f"{text} (default: {shown_default})".lstrip()


def add_quiet(parser: argparse.ArgumentParser, verbose: bool = False, what: str = "errors") -> None:
    """-q/--quiet, and -v/--verbose where a command has more to say."""
    parser.add_argument("-q", "--quiet", action="store_true", help=f"print nothing but {what}")
    if verbose:
        parser.add_argument(
            "-v", "--verbose", action="store_true", help="also print the settings (model, device, sampling) first"
        )


def add_model_options(parser: argparse.ArgumentParser, batch_size: int = 32) -> None:
    """Options of every command that runs the classifier."""
    parser.add_argument("--model", default=DEFAULT_MODEL, help="registered name or checkpoint path")
    parser.add_argument("--batch-size", type=int, default=batch_size, metavar="B", help="faces per classifier batch")
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="where the classifier runs; auto: cuda if present",
    )
    parser.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="classifier arithmetic; auto: int8 where the model ships it for ONNX Runtime, on torch bf16 where the "
        "CPU or GPU does it natively",
    )
    parser.add_argument(
        "--runtime",
        default="auto",
        choices=RUNTIMES,
        help="auto: ONNX Runtime for the shipped models (no torch loaded), torch for other .pt checkpoints",
    )
    parser.add_argument(
        "--tta", action="store_true", help="average each face over 6 mirrored and cropped views (6x classifier cost)"
    )


def add_align_option(parser: argparse.ArgumentParser) -> None:
    """--align, for every command that crops faces (analyze, batch, live, eval --photos)."""
    parser.add_argument(
        "--align", action="store_true", help="turn each face so that its eyes are level before classifying it"
    )


def add_detector_options(parser: argparse.ArgumentParser) -> None:
    """The face detector's options, the same for analyze, batch and live."""
    add_align_option(parser)
    parser.add_argument(
        "--no-face-features",
        action="store_true",
        help="skip the face mesh (head pose, eye and mouth openness, gaze): the fastest run; their columns stay empty",
    )
    parser.add_argument(
        "--min-face-score",
        type=float,
        default=DetectorConfig.min_score,
        metavar="S",
        help="detector confidence threshold",
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
    add_people_options(parser)


def add_every_frame(parser: argparse.ArgumentParser) -> None:
    """--every-frame: the exhaustive mode instead of the adaptive default."""
    parser.add_argument(
        "--every-frame",
        action="store_true",
        help="search every analysed frame for faces and read every face anew; by default a still face's last "
        "reading is kept until its picture changes, and faces are searched for only while they come and go",
    )


def add_analyze_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs the analysis engine."""
    parser.add_argument("-o", "--out-dir", type=path_arg, default=Path("fervideo-out"), help="folder for the outputs")
    add_model_options(parser)
    sampling = parser.add_mutually_exclusive_group()
    sampling.add_argument("--every", type=int, default=1, metavar="N", help="analyse every N-th frame (1: all)")
    sampling.add_argument("--fps", type=float, metavar="F", help="analyse about F frames per second of video")
    add_every_frame(parser)
    parser.add_argument(
        "--start",
        type=parse_time,
        default=0.0,
        metavar="TIME",
        help="start of the analysed range: SEC, MM:SS or HH:MM:SS",
    )
    parser.add_argument("--end", type=parse_time, metavar="TIME", help="end of the analysed range (default: the end)")
    add_detector_options(parser)
    parser.add_argument(
        "--smooth",
        type=seconds,
        default=DEFAULT_SMOOTH,
        metavar="SECONDS",
        help="average each face's probabilities over about this many seconds of video; 0: raw, frame by frame",
    )
    parser.add_argument("--report", action="store_true", help="also write CLIP.report.html and CLIP.timeline.png")
    parser.add_argument(
        "--codec",
        default="h264",
        choices=("h264", "mp4v"),
        help="annotated video: h264 with the source's sound (plays in browsers) or OpenCV's mp4v (default: h264)",
    )
    parser.add_argument(
        "--export",
        type=export_formats,
        default=(),
        metavar="FORMATS",
        help="also write for annotation tools, comma-separated: eaf (ELAN), boris (a BORIS project, time series) "
        "(default: none)",
    )
    parser.add_argument(
        "--min-episode",
        type=seconds,
        default=0.5,
        metavar="SECONDS",
        help="in CLIP.episodes.csv, shorter stretches of one top emotion join a neighbour",
    )
    parser.add_argument("--no-video", action="store_true", help="skip the annotated video; CSV and JSON only")
    add_draw_option(parser)
    add_quiet(parser, verbose=True)


def make_options(args: argparse.Namespace) -> object:
    """AnalyzeOptions from parsed arguments; raises UsageError for values that make no sense."""
    from fervideo.engine.pipeline import AnalyzeOptions
    from fervideo.engine.source import Sampling
    from fervideo.engine.tracker import TrackerConfig

    if not 0.0 <= args.min_face_score <= 1.0:
        raise UsageError(f"--min-face-score must be between 0 and 1, not {args.min_face_score}")
    if args.full_range_every < 1:
        raise UsageError(f"--full-range-every must be 1 or more, not {args.full_range_every}")
    sampling = Sampling(every=args.every, fps=args.fps, start=args.start, end=args.end)
    detector = DetectorConfig(strategy=args.detector, min_score=args.min_face_score, full_every=args.full_range_every)
    if args.max_people is not None and args.max_people < 1:
        raise UsageError(f"--max-people must be 1 or more, not {args.max_people}")
    return AnalyzeOptions(
        model=args.model,
        device=args.device,
        precision=args.precision,
        runtime=args.runtime,
        sampling=sampling,
        batch_size=args.batch_size,
        tta=args.tta,
        detector=detector,
        smooth=args.smooth,
        align=args.align,
        face_features=not args.no_face_features,
        tracker=TrackerConfig(max_people=args.max_people, reid=not args.no_reid),
        participant=args.participant,
        every_frame=args.every_frame,
    )


def output_options(args: argparse.Namespace) -> OutputOptions:
    """Which outputs a run writes."""
    if not args.min_episode >= 0:
        raise UsageError(f"--min-episode must be 0 or more seconds, not {args.min_episode}")
    return OutputOptions(
        write_video=not args.no_video,
        codec=args.codec,
        report=args.report,
        export=args.export,
        min_episode=args.min_episode,
        draw=args.draw,
    )


def check_distinct_outputs(inputs: Sequence[Path], out_dir: Path) -> None:
    """Two inputs must never write the same output files."""
    from fervideo.core.layout import output_paths
    from fervideo.run.job import refuse_overwriting_inputs

    refuse_overwriting_inputs(list(inputs), out_dir)
    seen: dict[Path, Path] = {}
    for path in inputs:
        target = output_paths(path, out_dir)["json"]
        if target in seen:
            raise UsageError(
                f"{seen[target]} and {path} would both write {target}; run them separately or with different -o folders"
            )
        seen[target] = path
