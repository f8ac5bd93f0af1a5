"""The per-input work of a batch, identical for every engine: a local worker process and a Ray task."""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection

from fervideo.core.errors import FervideoError
from fervideo.core.layout import OutputOptions
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.engine.runtime import use_cores
from fervideo.run.batch.jobs import empty_row, summary_row
from fervideo.run.job import analyze_file

_ANALYZER: tuple[AnalyzeOptions, Analyzer] | None = None
_STOPPING = False  # a stop signal came: its clean-up is under way
PR_SET_PDEATHSIG = 1  # linux/prctl.h
GRACE_S = 3.0  # for the clean-up after a stop, before a worker stuck in native code exits regardless


def init_worker(threads: int, handle_signals: bool = True) -> None:
    """Give each worker process its share of the cores; let the driver alone decide when to stop."""
    os.environ["OMP_NUM_THREADS"] = str(max(1, threads))  # the worker's cores, which a Ray task reads back
    use_cores(threads)
    if handle_signals:  # a local pool's worker; Ray manages its own workers' signals
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the driver, which stops the workers
        signal.signal(signal.SIGTERM, _exit_cleanly)


def _exit_cleanly(signum: int, frame: object) -> None:
    """SIGTERM as SystemExit, so that open outputs (and an ffmpeg encoder) are discarded on the way out."""
    global _STOPPING
    if _STOPPING:  # the same stop twice (the parent-death signal and the lifeline): not again mid-clean-up
        return
    _STOPPING = True
    sys.exit(128 + signum)


def serve(conn: Connection, threads: int, driver: int) -> None:
    """A local worker process: inputs from the driver over conn one at a time, rows back; it dies with the driver.

    The driver counts a worker that exits without answering as a transient failure, whatever ended it.
    """
    try:
        _die_with(driver)
        init_worker(threads)
        inputs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=_listen, args=(conn, inputs), name="fervideo-lifeline", daemon=True).start()
        while (args := inputs.get()) is not None:
            conn.send(process_input(*args))
    except SystemExit as exc:  # a stop, once the input's unfinished outputs were discarded on the way out
        os._exit(exc.code if isinstance(exc.code, int) else 1)  # not the interpreter's shutdown, which can wait
    except (OSError, EOFError):  # the driver went away while this one answered
        os._exit(1)
    os._exit(0)


def _die_with(driver: int) -> None:
    """On Linux, have the kernel send SIGTERM when the driver dies, even one killed with SIGKILL."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no libc to ask: the lifeline alone serves
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != driver:  # it died before the request took hold
        os._exit(1)


def _listen(conn: Connection, inputs: queue.SimpleQueue) -> None:
    """Pass the driver's inputs on; its end of the pipe closing (it exited, or was killed) stops this worker.

    A pipe works wherever Python does, and also while the main thread is busy with an input.
    """
    try:
        while True:
            inputs.put(conn.recv())
    except (EOFError, OSError):
        pass
    os.kill(os.getpid(), signal.SIGTERM)  # as a stop: the input being worked on leaves no files behind
    time.sleep(GRACE_S)
    os._exit(1)


def process_input(
    input_path: str, out_dir: str, options: AnalyzeOptions, outputs: OutputOptions, stem: str | None = None
) -> dict:
    """Analyse one input; never raises: returns an index row with status and a `transient` flag."""
    global _ANALYZER
    tic = time.perf_counter()
    row = empty_row(input_path)
    try:
        if _ANALYZER is None or _ANALYZER[0] != options:
            _ANALYZER = (options, Analyzer(options))  # models load once per worker, not once per input
        summary = analyze_file(input_path, out_dir, _ANALYZER[1], stem=stem, **outputs.kwargs())
        row.update(summary_row(summary), status="ok")
    except FervideoError as exc:
        row["error"] = str(exc)
    except (OSError, MemoryError, TimeoutError) as exc:  # the machine, not the file: worth another try
        row.update(error=f"{type(exc).__name__}: {exc}", transient=True)
    except Exception as exc:  # a bug must not stop the batch; the index says what happened
        row["error"] = f"internal error ({type(exc).__name__}: {exc})"
    row["seconds"] = f"{time.perf_counter() - tic:.2f}"
    row["error"] = " ".join(str(row["error"]).split())  # one line in the index
    return row
