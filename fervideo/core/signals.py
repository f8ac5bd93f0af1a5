"""A stop request (Ctrl-C, SIGTERM, SIGHUP) that survives libraries which swallow KeyboardInterrupt.

numpy, for one, turns a KeyboardInterrupt raised while its extension loads into an ImportError, which an
optional import elsewhere may then catch: the run would go on as if nothing had been asked. So the request is
also recorded here, and the long loops check it (check()) and the command line consults it (requested()).
"""

from __future__ import annotations

import os
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
    """Hold stop signals back for a block; one that came meanwhile is delivered, as it would have been, on exit.

    An interrupt inside the import of an extension built on numpy's C API (cv2, for one) makes it print a
    traceback itself before failing, which no handler can take back; a Ctrl-C between the renames of a
    commit would leave half a group. The handlers are swapped rather than the signals masked: a signal sent
    to the process goes to any thread that does not mask it (the prefetch and drawing threads, mediapipe's),
    and Python then runs its handler in the main thread all the same.
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        yield
        return
    held: list[int] = []
    previous: dict[int, object] = {}
    try:
        # inside the try: a stop raised while the handlers are being swapped must not leave one swapped for good,
        # swallowing every later Ctrl-C of the process
        for signum in STOPS:
            previous[signum] = signal.signal(signum, lambda signum, frame: held.append(signum))
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if held:
            _deliver(held[0], previous[held[0]])


def _deliver(signum: int, handler: object) -> None:
    """Act on a held signal as its own handler would have when it came."""
    if callable(handler):
        handler(signum, None)  # Python's for SIGINT raises KeyboardInterrupt; fervideo.entry's raises Stopped
    elif handler in (signal.SIG_DFL, None):
        os.kill(os.getpid(), signum)  # the default action: SIGTERM and SIGHUP end the process
