"""Batch engines: a pool of local worker processes, or Ray tasks. Each submits jobs and yields finished ones."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Protocol

from fervideo.core import journal
from fervideo.core.errors import FervideoError, UsageError
from fervideo.core.layout import OutputOptions
from fervideo.engine.pipeline import AnalyzeOptions
from fervideo.run.batch.jobs import Job, failed_row
from fervideo.run.batch.worker import init_worker, process_input, serve

Done = tuple[Job, dict]  # a job and its index row, with `transient` set when another try may succeed


class Engine(Protocol):
    """What the batch driver asks of an engine: take jobs, hand back finished ones, say what runs, stop."""

    def submit(self, job: Job, options: AnalyzeOptions, outputs: OutputOptions) -> None:
        """Queue one job."""

    def wait_one(self) -> list[Done]:
        """Block until at least one job has finished; those that have."""

    def running(self) -> list[Job]:
        """Jobs being worked on now."""

    def close(self) -> None:
        """Stop every worker, also busy ones, and forget every job."""


def cores_per_worker(workers: int) -> int:
    """This machine's cores shared out between the workers, at least one each."""
    return max(1, (os.cpu_count() or 1) // workers)


class LocalEngine:
    """Worker processes on this machine, one input at a time each; a worker that dies costs only its own input.

    Each worker (worker.serve) reads its inputs from a pipe whose closing, like the kernel's parent-death
    signal, ends it: a driver killed outright (kill -9) takes its workers along, and so its stdout.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.threads = cores_per_worker(workers)
        self._idle: list[_Worker] = []  # started, models loaded, waiting for an input
        self._busy: list[_Worker] = []  # each on its job
        self._backlog: list[tuple[Job, tuple]] = []  # waiting for a free worker

    def submit(self, job: Job, options: AnalyzeOptions, outputs: OutputOptions) -> None:
        """Queue one job."""
        self._backlog.append((job, (str(job.input), str(job.out_dir), options, outputs, job.stem)))
        self._fill()

    def _fill(self) -> None:
        """Hand waiting jobs to free workers, starting workers as needed."""
        while self._backlog and len(self._busy) < self.workers:
            worker = self._idle.pop() if self._idle else _Worker.start(self.threads)
            job, args = self._backlog.pop(0)
            # one that died meanwhile gets the job all the same: wait_one reports it as any death, for a retry
            with contextlib.suppress(OSError):
                worker.conn.send(args)
            worker.job = job
            self._busy.append(worker)

    def running(self) -> list[Job]:
        """Jobs a worker is on now."""
        return [worker.job for worker in self._busy]

    def wait_one(self) -> list[Done]:
        """Finished jobs, at least one; the job of a worker that died fails as transient, the others go on."""
        from multiprocessing.connection import wait

        if not self._busy:
            return []
        ready = set(wait([w.conn for w in self._busy] + [w.process.sentinel for w in self._busy]))
        finished = []
        for worker in [w for w in self._busy if w.conn in ready or w.process.sentinel in ready]:
            self._busy.remove(worker)
            job, worker.job = worker.job, None
            row = worker.answer()
            if row is None:
                worker.stop(WORKER_EXIT_S)
                _sweep(job, worker.process.pid)
                died = failed_row(job, f"a worker process died ({worker.ending()})")
                finished.append((job, died | {"transient": True}))
            else:
                self._idle.append(worker)
                finished.append((job, row))
        self._fill()
        return finished

    def close(self) -> None:
        """Stop the workers, also those still busy, and forget every job."""
        workers, self._busy, self._idle = self._busy + self._idle, [], []
        self._backlog.clear()
        for worker in workers:  # all at once: each discards its unfinished outputs in parallel
            worker.process.terminate()
        deadline = time.monotonic() + STOP_S
        for worker in workers:  # gone before their temporary files are swept up
            worker.stop(max(0.0, deadline - time.monotonic()))


def _sweep(job: Job, pid: int) -> None:
    """Finish a commit that the dead worker pid cut short, then remove the temporary files it left: a killed worker
    (kill -9, the OOM killer) had no chance to, and its retry writes them anew under its own names."""
    folder = Path(job.out_dir)
    try:
        journal.recover(folder)
    except (OSError, FervideoError):
        return  # the old files its commit moved aside must stay: the retry's own recovery says what is wrong
    for path in folder.glob(f".*.{pid}-*.partial*"):
        with contextlib.suppress(OSError):
            path.unlink()


STOP_S = 2.0  # for every worker together to discard its unfinished outputs after a stop, before it is killed
WORKER_EXIT_S = 5.0  # for a worker that closed its pipe to end


@dataclass
class _Worker:
    """One local worker process and the driver's end of its pipe."""

    process: BaseProcess
    conn: Connection
    job: Job | None = None

    @classmethod
    def start(cls, threads: int) -> _Worker:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # fork would copy torch and mediapipe threads
        ours, theirs = ctx.Pipe()
        process = ctx.Process(target=serve, args=(theirs, threads, os.getpid()), name="fervideo-worker", daemon=True)
        process.start()
        theirs.close()  # the worker's end lives in the worker alone, so that either side's exit is seen
        return cls(process, ours)

    def answer(self) -> dict | None:
        """The row the worker sent, or None when it ended without one."""
        try:
            return self.conn.recv() if self.conn.poll() else None
        except (EOFError, OSError):
            return None

    def stop(self, wait_s: float) -> None:
        """End the process (SIGTERM, then SIGKILL after wait_s) and close the pipe."""
        self.process.terminate()
        self.process.join(wait_s)
        if self.process.is_alive():  # stuck in native code past its SIGTERM
            self.process.kill()
            self.process.join(5)
        self.conn.close()

    def ending(self) -> str:
        """How the process ended, in words, for the index."""
        code = self.process.exitcode
        # a signal's default action gives -N; the worker's own handler exits with 128 + N
        signum = -code if code is not None and code < 0 else code - 128 if code is not None and code > 128 else 0
        try:
            name = signal.Signals(signum).name
        except ValueError:
            return f"exit status {code}"
        return f"killed by {name}, perhaps for want of memory" if signum == signal.SIGKILL else f"stopped by {name}"


class RayEngine:
    """Ray tasks on a local Ray or an existing cluster; each task runs process_input."""

    def __init__(self, workers: int, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError("--engine ray needs Ray: pip install ray") from None
        self.ray = ray
        self.started = not ray.is_initialized()  # a local Ray we start, we also stop
        if self.started:
            local = {"num_cpus": workers * cores_per_worker(workers)} if address is None else {}
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **local)
        cpus = cores_per_worker(workers) if address is None else 1
        self.task = ray.remote(num_cpus=cpus, max_retries=0)(_ray_task)
        self._refs: dict = {}

    def submit(self, job: Job, options: AnalyzeOptions, outputs: OutputOptions) -> None:
        """Queue one job as a Ray task."""
        self._refs[self.task.remote(str(job.input), str(job.out_dir), options, outputs, job.stem)] = job

    def running(self) -> list[Job]:
        """Jobs submitted and not yet finished (Ray does not say which have started)."""
        return list(self._refs.values())

    def wait_one(self) -> list[Done]:
        """Finished jobs; a lost task or node counts as transient."""
        done, _ = self.ray.wait(list(self._refs), num_returns=1)
        finished = []
        for ref in done:
            job = self._refs.pop(ref)
            try:
                finished.append((job, self.ray.get(ref)))
            except self.ray.exceptions.RayError as exc:
                finished.append((job, failed_row(job, f"ray: {type(exc).__name__}") | {"transient": True}))
        return finished

    def close(self) -> None:
        """Cancel what is left; leave a cluster we joined running."""
        for ref in self._refs:
            self.ray.cancel(ref, force=True)
        self._refs.clear()
        if self.started:
            self.ray.shutdown()


def _ray_task(input_path: str, out_dir: str, options: AnalyzeOptions, outputs: OutputOptions, stem: str | None) -> dict:
    init_worker(int(os.environ.get("OMP_NUM_THREADS", "1")), handle_signals=False)
    return process_input(input_path, out_dir, options, outputs, stem)
