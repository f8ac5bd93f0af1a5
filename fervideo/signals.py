"""A stop request (Ctrl-C, SIGTERM, SIGHUP) that survives libraries which swallow KeyboardInterrupt.

numpy, for one, turns a KeyboardInterrupt raised while its extension loads into an ImportError, which an
optional import elsewhere may then catch: the run would go on as if nothing had been asked. So the request is
also recorded here, and the long loops check it (check()) and the command line consults it (requested()).
"""

from __future__ import annotations

import signal

_requested: int | None = None


class Stopped(KeyboardInterrupt):
    """A stop signal, raised where Ctrl-C would be so that the same clean-up runs; signum says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def request(signum: int) -> None:
    """Record that the run was asked to stop."""
    global _requested
    _requested = signum


def requested() -> int | None:
    """The signal that asked the run to stop, if any."""
    return _requested


def check() -> None:
    """Raise Stopped if a stop was asked for, even one whose KeyboardInterrupt a library swallowed."""
    if _requested is not None:
        raise Stopped(_requested)


def reset() -> None:
    """Forget a request (for a caller that runs several commands in one process, such as the tests)."""
    global _requested
    _requested = None
