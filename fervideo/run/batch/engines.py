"""Batch engines: a pool of local worker processes, or Ray tasks. Each submits jobs and yields finished ones."""

from __future__ import annotations

import os
from typing import Protocol

from fervideo.core.errors import UsageError
from fervideo.core.layout import OutputOptions
from fervideo.engine.pipeline import AnalyzeOptions
from fervideo.run.batch.jobs import Job, failed_row
from fervideo.run.batch.worker import init_worker, process_input

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
    """A pool of worker processes on this machine."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.threads = cores_per_worker(workers)
        self._pool = None
        self._futures: dict = {}  # in the pool: at most one job per worker, so each is really running
        self._backlog: list[tuple[Job, tuple]] = []  # waiting for a free worker; a dying pool never takes these

    def _ensure_pool(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")  # fork would copy torch and mediapipe threads
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=init_worker, initargs=(self.threads,)
            )

    def submit(self, job: Job, options: AnalyzeOptions, outputs: OutputOptions) -> None:
        """Queue one job."""
        self._backlog.append((job, (str(job.input), str(job.out_dir), options, outputs, job.stem)))
        self._fill()

    def _fill(self) -> None:
        """Hand waiting jobs to free workers."""
        self._ensure_pool()
        while self._backlog and len(self._futures) < self.workers:
            job, args = self._backlog.pop(0)
            self._futures[self._pool.submit(process_input, *args)] = job

    def running(self) -> list[Job]:
        """Jobs a worker is on now."""
        return [job for future, job in self._futures.items() if future.running()]

    def wait_one(self) -> list[Done]:
        """Finished jobs, at least one; a crashed worker fails its jobs as transient and the pool is rebuilt.

        A list, not a generator: the broken pool must be gone before the caller resubmits the lost jobs.
        """
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        finished, broken = [], False
        died = "a worker process died (killed, or out of memory)"
        for future in done:
            job = self._futures.pop(future)
            try:
                finished.append((job, future.result()))
            except BrokenProcessPool:
                broken = True
                finished.append((job, failed_row(job, died) | {"transient": True}))
        if broken:  # the pool cannot be used again; its other jobs died with it
            finished += [(job, failed_row(job, died) | {"transient": True}) for job in self._futures.values()]
            self._futures.clear()
            self._stop_pool()  # the backlog goes to a fresh pool
        if self._backlog:
            self._fill()
        return finished

    def close(self) -> None:
        """Stop the workers, also those still busy, and forget every job."""
        self._stop_pool()
        self._futures.clear()
        self._backlog.clear()

    def _stop_pool(self) -> None:
        if self._pool is not None:
            processes = list(getattr(self._pool, "_processes", {}).values())
            for process in processes:
                process.terminate()
            for process in processes:  # gone before their temporary files are swept up
                process.join(timeout=10)
                if process.is_alive():  # stuck in native code past its SIGTERM
                    process.kill()
                    process.join(timeout=5)
            # with every worker gone, waiting lets the pool's own threads end now rather than at interpreter exit,
            # where a broken pool's thread could still be failing as Python shuts down
            self._pool.shutdown(wait=not any(p.is_alive() for p in processes), cancel_futures=True)
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
