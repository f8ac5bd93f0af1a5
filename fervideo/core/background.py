"""Work moved to background threads, so that it overlaps the main thread's.

Decoding, mediapipe, torch and pipe writes release the GIL: on two cores the detector runs ahead
of the classifier, and annotated frames are drawn and sent to the encoder behind it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Yield items in order while a thread produces up to depth of them ahead; its exceptions re-raise here."""
    assert depth >= 1
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():  # a consumer that went away must not leave this thread blocked forever
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it as its own
            offer(_Failure(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator's finally blocks run in the thread that ran it
                close()

    thread = threading.Thread(target=produce, name="fervideo-prefetch", daemon=True)
    try:
        thread.start()  # inside: a stop that lands just after it still stops and joins the thread
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        if thread.ident is not None:  # started
            thread.join()  # the producer owns resources (a decoder, a detector) its caller closes next


class BackgroundWriter(Generic[T]):
    """Hands items to write(item) in a thread, in order; its first error re-raises on the next put or close."""

    def __init__(self, write: Callable[[T], object], depth: int = 8) -> None:
        self._write = write
        self._buffer: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="fervideo-writer", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (item := self._buffer.get()) is not _DONE:
            if self._error is None:  # after a failure the rest is only taken off the queue
                try:
                    self._write(item)
                except BaseException as exc:  # raised in the main thread by put or close
                    self._error = exc

    def put(self, item: T) -> None:
        """Queue one item; blocks while depth items wait."""
        self._raise()
        self._buffer.put(item)

    def close(self) -> None:
        """Wait until every queued item is written; raises the writer's error, if any."""
        if self._thread.is_alive():
            self._buffer.put(_DONE)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> BackgroundWriter[T]:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(BaseException):  # already failing: the first error is the one to report
            self.close()
