"""The command line: the only layer that prints, shows progress and chooses exit codes."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from fervideo import __version__
from fervideo.cli import analyze, batch, evaluate, export, live, report
from fervideo.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, HelpFormatter, printable
from fervideo.cli.console import err
from fervideo.core.atomic import committed
from fervideo.core.choices import TORCH_HINT
from fervideo.core.errors import FervideoError, UsageError
from fervideo.core.signals import deferred, requested


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one `error:` line like every other error (subcommands inherit it)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)  # every option's default in --help
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and where the options are described; exit with status 2."""
        self.exit(EXIT_USAGE, f"error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = _Parser(prog="fervideo", description="Read the emotions on the faces in a video.")
    parser.add_argument("--version", action="version", version=f"fervideo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    analyze.add_parser(commands)
    batch.add_parser(commands)
    live.add_parser(commands)
    evaluate.add_parsers(commands)
    report.add_parser(commands)
    export.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, turn every known failure into one line and an exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed as one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    earlier = len(committed())  # results of an earlier call in this process are not this run's
    try:
        _silence_opencv_log()  # inside: its import of cv2 (and numpy) is where an early Ctrl-C may land
        return args.run(args)
    except UsageError as exc:
        err.print(f"error: {printable(exc)}")
        return EXIT_USAGE
    except FervideoError as exc:
        err.print(f"error: {printable(exc)}")
        return EXIT_FAILED
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP turned into it by fervideo.entry
        err.print(interrupted_line(committed()[earlier:]))
        return 128 + exc.signum if hasattr(exc, "signum") else EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line, the traceback on request; or a swallowed Ctrl-C
        if (signum := requested()) is not None:  # numpy turns a Ctrl-C during its import into an ImportError
            err.print(interrupted_line(committed()[earlier:]))
            return 128 + signum
        if isinstance(exc, ImportError) and _torch_missing(exc):  # a lean install: ONNX Runtime only
            err.print(f"error: this needs torch, which is not installed ({exc}); {TORCH_HINT}")
            return EXIT_FAILED
        if os.environ.get("FERVIDEO_DEBUG"):
            raise
        err.print(f"error: internal error ({type(exc).__name__}: {exc}); set FERVIDEO_DEBUG=1 for the traceback")
        return EXIT_FAILED


def interrupted_line(kept: list[Path]) -> str:
    """What a stop left: nothing unfinished, and the results (kept) that were complete before it landed."""
    if not kept:
        return "interrupted; unfinished outputs were removed"
    folders = sorted({str(path.parent) for path in kept})
    where = printable(folders[0]) if len(folders) == 1 else f"{len(folders)} folders"
    return f"interrupted; the finished results in {where} were kept, unfinished outputs were removed"


def _torch_missing(exc: ImportError) -> bool:
    """Whether an import failed because torch (or a package only the torch stack needs) is absent."""
    return any(name in (exc.name or str(exc)) for name in ("torch", "torchvision", "einops"))


def _silence_opencv_log() -> None:
    """OpenCV reads OPENCV_LOG_LEVEL (set by fervideo/__init__) only when cv2 is imported, which may be earlier."""
    if os.environ.get("OPENCV_LOG_LEVEL") == "OFF":  # not when the user asked for OpenCV's log
        with deferred():
            import cv2

        # OpenCV 4 has it at the top, OpenCV 5 only in cv2.utils.logging
        set_level = getattr(cv2, "setLogLevel", None) or cv2.utils.logging.setLogLevel
        set_level(0)  # cv::utils::logging::LOG_LEVEL_SILENT
