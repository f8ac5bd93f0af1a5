"""The per-input work of a batch, identical for every engine: a local worker process and a Ray task."""

from __future__ import annotations

import os
import signal
import sys
import time

from fervideo.core.errors import FervideoError
from fervideo.core.layout import OutputOptions
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer, use_cores
from fervideo.run.batch.jobs import empty_row, summary_row
from fervideo.run.job import analyze_file

_ANALYZER: tuple[AnalyzeOptions, Analyzer] | None = None


def init_worker(threads: int, handle_signals: bool = True) -> None:
    """Give each worker process its share of the cores; let the driver alone decide when to stop."""
    os.environ["OMP_NUM_THREADS"] = str(max(1, threads))  # the worker's cores, which a Ray task reads back
    use_cores(threads)
    if handle_signals:  # a local pool's worker; Ray manages its own workers' signals
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the driver, which stops the workers
        signal.signal(signal.SIGTERM, _exit_cleanly)


def _exit_cleanly(signum: int, frame: object) -> None:
    """SIGTERM as SystemExit, so that open outputs (and an ffmpeg encoder) are discarded on the way out."""
    sys.exit(128 + signum)


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
