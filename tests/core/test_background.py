"""Background threads: prefetch runs a generator ahead, BackgroundWriter writes behind."""

from __future__ import annotations

import threading
import time

import pytest

from fervideo.core.background import BackgroundWriter, prefetch


def test_prefetch_yields_every_item_in_order():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_prefetch_raises_the_producers_error_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("corrupt frame")

    got = []
    with pytest.raises(ValueError, match="corrupt frame"):
        for item in prefetch(items()):
            got.append(item)
    assert got == [1, 2]


def test_prefetch_runs_at_most_depth_items_ahead():
    produced = []

    def items():
        for i in range(100):
            produced.append(i)
            yield i

    stream = prefetch(items(), depth=4)
    next(stream)
    time.sleep(0.3)
    assert len(produced) <= 1 + 4 + 1  # the one taken, the queue, and one waiting to be put
    stream.close()


def test_closing_early_stops_the_producer_and_runs_its_cleanup_first():
    cleaned = threading.Event()

    def items():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            cleaned.set()

    stream = prefetch(items(), depth=2)
    assert next(stream) == 0
    stream.close()
    assert cleaned.is_set()  # done before close() returned: the caller may now release the source
    assert not any(t.name == "fervideo-prefetch" and t.is_alive() for t in threading.enumerate())


def test_writer_writes_every_item_in_order_by_close():
    written = []
    with BackgroundWriter(written.append, depth=2) as writer:
        for i in range(50):
            writer.put(i)
        writer.close()
        assert written == list(range(50))


def test_writer_error_surfaces_on_close_and_later_items_are_not_written():
    written = []

    def write(item: int) -> None:
        if item == 3:
            raise OSError(28, "No space left on device")
        written.append(item)

    writer = BackgroundWriter(write)
    for i in range(6):
        try:
            writer.put(i)
        except OSError:
            break
    with pytest.raises(OSError, match="No space"):
        writer.close()
    assert written == [0, 1, 2]


def test_writer_leaves_the_callers_error_in_charge():
    def write(item: int) -> None:
        raise OSError("writer failed too")

    with pytest.raises(KeyError), BackgroundWriter(write) as writer:
        writer.put(1)
        raise KeyError("the first error")
