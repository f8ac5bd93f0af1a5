"""A stop request (Ctrl-C, SIGTERM, SIGHUP) that survives libraries which swallow KeyboardInterrupt.

numpy, for one, turns a KeyboardInterrupt raised while its extension loads into an ImportError, which an
optional import elsewhere may then catch: the run would go on as if nothing had been asked. So the request is
also recorded here, and the long loops check it (check()) and the command line consults it (requested()).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
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


@contextmanager
def deferred() -> Iterator[None]:
    """Hold stop signals back while a native library loads; one that came meanwhile is delivered on exit.

    An interrupt inside the import of an extension built on numpy's C API (cv2, for one) makes it print a
    traceback itself before failing, which no handler can take back; after the import it is a plain Ctrl-C.
    """
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
