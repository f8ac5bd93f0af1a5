"""Batch analysis of a folder: parallel workers or Ray tasks, retries, resumable, an index of every input.

Every engine runs the same per-input function, `process_input`, so a local worker and a Ray task
produce identical outputs. Outputs are atomic (JSON last), so an input whose outputs are complete is
skipped on a rerun and a batch killed at any point redoes at most the inputs that were in flight.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fervideo.errors import FervideoError, UsageError
from fervideo.job import analyze_file, output_paths
from fervideo.pipeline import AnalyzeOptions, Analyzer
from fervideo.sinks import AtomicOutput, prepare_out_dir

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv")
INDEX_HEADER = ["input", "status", "frames", "faces", "dominant_emotion", "seconds", "error", "outputs"]


@dataclass
class Job:
    input: Path  # as found under the batch folder
    out_dir: Path  # OUT_DIR mirrored by the input's subfolder
    attempts: int = 0
    row: dict = field(default_factory=dict)


def find_inputs(folder: Path, out_dir: Path, recursive: bool = False, pattern: str | None = None) -> list[Path]:
    """Videos under folder (and files matching pattern, images included), sorted, skipping hidden and outputs."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    out_dir = out_dir.resolve()
    found = []
    for path in sorted(folder.rglob("*") if recursive else folder.glob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if out_dir == path.resolve().parent or out_dir in path.resolve().parents:
            continue  # our own outputs, when OUT_DIR lies inside the folder
        if pattern is not None:
            if fnmatch.fnmatch(rel.as_posix(), pattern) or fnmatch.fnmatch(path.name, pattern):
                found.append(path)
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            found.append(path)
    return found


def plan(folder: Path, inputs: list[Path], out_dir: Path) -> list[Job]:
    """One job per input; outputs mirror the input's subfolder so equal names never collide."""
    return [Job(path, out_dir / path.relative_to(folder).parent) for path in inputs]


def is_complete(job: Job, outputs: dict) -> dict | None:
    """The JSON summary of an earlier complete run on the unchanged input, or None."""
    paths = output_paths(job.input, job.out_dir)
    try:
        summary = json.loads(paths["json"].read_text())
        unchanged = summary["input"]["size_bytes"] == job.input.stat().st_size
    except (OSError, ValueError, KeyError, TypeError):
        return None
    wanted = [paths["csv"]] + ([paths["video"]] if outputs.get("write_video", True) else [])
    wanted += [paths["report"], paths["timeline"]] if outputs.get("report") else []
    return summary if unchanged and all(p.is_file() for p in wanted) else None


def remove_partials(out_dir: Path) -> int:
    """Delete temporary outputs left by a killed run; they are hidden and named *.partial.*."""
    removed = 0
    for path in out_dir.rglob(".*.partial*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# --- the per-input work, identical for every engine ------------------------------------------------

_ANALYZER: tuple[AnalyzeOptions, Analyzer] | None = None


def init_worker(threads: int, handle_signals: bool = True) -> None:
    """Give each worker process its share of the cores; let the driver alone decide when to stop."""
    import torch

    torch.set_num_threads(max(1, threads))
    os.environ["OMP_NUM_THREADS"] = str(max(1, threads))
    if handle_signals:  # a local pool's worker; Ray manages its own workers' signals
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the driver, which stops the workers
        signal.signal(signal.SIGTERM, _exit_cleanly)


def _exit_cleanly(signum: int, frame: object) -> None:
    """SIGTERM as SystemExit, so that open outputs (and an ffmpeg encoder) are discarded on the way out."""
    sys.exit(128 + signum)


def process_input(input_path: str, out_dir: str, options: AnalyzeOptions, outputs: dict) -> dict:
    """Analyse one input; never raises: returns an index row with status and a `transient` flag."""
    global _ANALYZER
    tic = time.perf_counter()
    row = {
        "input": input_path,
        "status": "failed",
        "frames": "",
        "faces": "",
        "dominant_emotion": "",
        "seconds": "",
        "error": "",
        "outputs": "",
        "transient": False,
    }
    try:
        if _ANALYZER is None or _ANALYZER[0] != options:
            _ANALYZER = (options, Analyzer(options))  # models load once per worker, not once per input
        summary = analyze_file(input_path, out_dir, _ANALYZER[1], **outputs)
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


def summary_row(summary: dict) -> dict:
    """Index fields from a JSON summary."""
    tracks = summary.get("tracks", [])
    dominant = max(tracks, key=lambda t: t["frames"])["dominant_emotion"] if tracks else ""
    return {
        "frames": summary["counts"]["frames_analysed"],
        "faces": summary["counts"]["faces"],
        "dominant_emotion": dominant,
        "outputs": ";".join(summary.get("outputs", {}).values()),
    }


# --- engines: submit a job, wait for one to finish -------------------------------------------------

Done = tuple[Job, dict]


class LocalEngine:
    """A pool of worker processes on this machine."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self._pool = None
        self._futures: dict = {}

    def _ensure_pool(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")  # fork would copy torch and mediapipe threads
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=init_worker, initargs=(self.threads,)
            )

    def submit(self, job: Job, options: AnalyzeOptions, outputs: dict) -> None:
        """Queue one job."""
        self._ensure_pool()
        future = self._pool.submit(process_input, str(job.input), str(job.out_dir), options, outputs)
        self._futures[future] = job

    def running(self) -> list[Job]:
        """Jobs a worker is on now."""
        return [job for future, job in self._futures.items() if future.running()]

    def wait_one(self) -> Iterator[Done]:
        """Finished jobs, at least one; a crashed worker fails its jobs as transient."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            job = self._futures.pop(future)
            try:
                yield job, future.result()
            except BrokenProcessPool:
                broken = True
                yield job, {"status": "failed", "error": "a worker process died", "transient": True}
        if broken:  # the pool cannot be used again; its other jobs died with it
            for future, job in list(self._futures.items()):
                self._futures.pop(future)
                yield job, {"status": "failed", "error": "a worker process died", "transient": True}
            self.close()

    def close(self) -> None:
        """Stop the workers, also those still busy."""
        if self._pool is not None:
            processes = list(getattr(self._pool, "_processes", {}).values())
            for process in processes:
                process.terminate()
            for process in processes:  # gone before their temporary files are swept up
                process.join(timeout=10)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._futures.clear()


class RayEngine:
    """Ray tasks on a local Ray or an existing cluster; each task runs process_input."""

    def __init__(self, workers: int, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError('--engine ray needs Ray: pip install "fervideo[ray]"') from None
        self.ray = ray
        self.started = not ray.is_initialized()  # a local Ray we start, we also stop
        if self.started:
            local = {"num_cpus": workers * max(1, (os.cpu_count() or 1) // workers)} if address is None else {}
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **local)
        cpus = max(1, (os.cpu_count() or 1) // workers) if address is None else 1
        self.task = ray.remote(num_cpus=cpus, max_retries=0)(_ray_task)
        self._refs: dict = {}

    def submit(self, job: Job, options: AnalyzeOptions, outputs: dict) -> None:
        """Queue one job as a Ray task."""
        self._refs[self.task.remote(str(job.input), str(job.out_dir), options, outputs)] = job

    def running(self) -> list[Job]:
        """Jobs submitted and not yet finished (Ray does not say which have started)."""
        return list(self._refs.values())

    def wait_one(self) -> Iterator[Done]:
        """Finished jobs; a lost task or node counts as transient."""
        done, _ = self.ray.wait(list(self._refs), num_returns=1)
        for ref in done:
            job = self._refs.pop(ref)
            try:
                yield job, self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                yield job, {"status": "failed", "error": f"ray: {type(exc).__name__}", "transient": True}

    def close(self) -> None:
        """Cancel what is left; leave a cluster we joined running."""
        for ref in self._refs:
            self.ray.cancel(ref, force=True)
        self._refs.clear()
        if self.started:
            self.ray.shutdown()


def _ray_task(input_path: str, out_dir: str, options: AnalyzeOptions, outputs: dict) -> dict:
    init_worker(int(os.environ.get("OMP_NUM_THREADS", "1")), handle_signals=False)
    return process_input(input_path, out_dir, options, outputs)


# --- the driver -----------------------------------------------------------------------------------

Events = Callable[[str, Job], None]  # ("start" | "done", job)


def run_batch(
    jobs: list[Job],
    out_dir: Path,
    options: AnalyzeOptions,
    engine: LocalEngine | RayEngine,
    outputs: dict | None = None,
    retries: int = 1,
    events: Events | None = None,
) -> list[dict]:
    """Skip complete inputs, run the rest with retries, and keep OUT_DIR/index.csv up to date.

    outputs are analyze_file's keyword arguments (write_video, codec, report).
    """
    outputs = outputs or {}
    prepare_out_dir(out_dir)
    remove_partials(out_dir)
    events = events or (lambda kind, job: None)
    queue = []
    for job in jobs:
        earlier = is_complete(job, outputs)
        if earlier is not None:
            job.row = {"input": str(job.input), "status": "skipped", "seconds": "", "error": "", **summary_row(earlier)}
            events("done", job)
        else:
            queue.append(job)
    try:
        for job in queue:
            job.attempts = 1
            engine.submit(job, options, outputs)
            events("start", job)
        pending = len(queue)
        while pending:
            for job, row in engine.wait_one():
                if row.get("transient") and job.attempts <= retries:
                    job.attempts += 1
                    engine.submit(job, options, outputs)
                    events("start", job)
                    continue
                job.row = {k: v for k, v in row.items() if k != "transient"}
                pending -= 1
                events("done", job)
                write_index(out_dir, jobs)
    except KeyboardInterrupt:
        for job in jobs:
            if not job.row:
                job.row = {"input": str(job.input), "status": "failed", "error": "interrupted"}
        engine.close()
        remove_partials(out_dir)  # what the stopped workers left half-written
        raise
    finally:
        engine.close()
        write_index(out_dir, jobs)
    return [job.row for job in jobs]


def write_index(out_dir: Path, jobs: list[Job]) -> None:
    """OUT_DIR/index.csv, one row per input that has an outcome, replaced atomically."""
    out = AtomicOutput(out_dir / "index.csv")
    try:
        with open(out.tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, INDEX_HEADER, extrasaction="ignore")
            writer.writeheader()
            for job in jobs:
                if job.row:
                    writer.writerow({k: job.row.get(k, "") for k in INDEX_HEADER})
        out.commit()
    finally:
        out.discard()
