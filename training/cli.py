"""How a training script ends: one line for a mistake, and after a stop one line saying how to go on."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable

from fervideo.core.errors import FervideoError, one_line
from fervideo.core.signals import STOPS, Stopped, request


def _stop(signum: int, frame: object) -> None:
    request(signum)
    raise Stopped(signum)


def script(
    main: Callable[[argparse.Namespace], object],
    parse_args: Callable[[list[str] | None], argparse.Namespace],
    argv: list[str] | None = None,
    after_stop: Callable[[argparse.Namespace], str] = lambda args: "",
) -> None:
    """Run main on the parsed argv; SIGTERM and SIGHUP stop it as Ctrl-C does, so half-written files are removed."""
    previous = {signum: signal.signal(signum, _stop) for signum in STOPS}
    args = None
    try:
        args = parse_args(argv)
        main(args)
    except FervideoError as exc:  # a missing file or a contradictory flag: one line, not a traceback
        raise SystemExit(f"error: {one_line(exc)}") from None
    except KeyboardInterrupt as exc:  # the session ending, a kill or Ctrl-C: say what is kept and how to go on
        signum = getattr(exc, "signum", signal.SIGINT)
        hint = after_stop(args) if args is not None else ""
        sys.stderr.write(f"stopped by {signal.Signals(signum).name}{'; ' + hint if hint else ''}\n")
        raise SystemExit(128 + signum) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
