"""The console script: imports the command line only inside the guard, so a Ctrl-C while torch loads is quiet.

SIGTERM and SIGHUP (a `kill`, a closed terminal, a container stopping) are handled like Ctrl-C: the run stops,
its unfinished outputs are removed, one line says so, and the exit status is 128 + the signal's number.
"""

from __future__ import annotations

import signal
import sys

from fervideo.core.signals import STOPS, Stopped, deferred, request


def _stop(signum: int, frame: object) -> None:
    request(signum)
    raise Stopped(signum)


def run() -> int:
    """`fervideo ...`: the command line's exit code; 130 with one line when interrupted, even during start-up."""
    for signum in STOPS:
        signal.signal(signum, _stop)
    try:
        with deferred():  # the command line's imports load numpy, whose C API prints an interrupt's traceback
            from fervideo.cli import main

        code = main()
    except KeyboardInterrupt as exc:
        _settled()
        sys.stderr.write("interrupted\n")
        return 128 + getattr(exc, "signum", signal.SIGINT)
    _settled()
    return code


def _settled() -> None:
    """The outcome is decided and said: a stop from now on is ignored, not raised into the interpreter's exit,
    where it printed a traceback and could leave a finished run's status at 0 or 130 by chance."""
    for signum in STOPS:
        signal.signal(signum, signal.SIG_IGN)
