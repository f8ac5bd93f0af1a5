"""The console script: imports the command line only inside the guard, so a Ctrl-C while torch loads is quiet."""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def run() -> int:
    """`fervideo ...`: the command line's exit code; 130 with one line when interrupted, even during start-up."""
    try:
        from fervideo.cli import main

        return main()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
