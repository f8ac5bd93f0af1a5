"""fervideo batch: every video in a folder, in parallel, resumable, with an index of what happened."""

from __future__ import annotations

import argparse
import os
from functools import partial
from pathlib import Path

from fervideo.cli.analyze import warn_if_no_h264
from fervideo.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_analyze_options,
    make_options,
    output_options,
    path_arg,
    printable,
)
from fervideo.cli.console import Live, err
from fervideo.core.errors import UsageError

MAX_WORKERS = 1024


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    batch = commands.add_parser("batch", help="analyse every video in a folder; reruns skip finished ones")
    batch.add_argument("folder", type=path_arg, metavar="DIR", help="the folder of videos (or of --glob matches)")
    batch.add_argument("--recursive", action="store_true", help="also look in subfolders")
    batch.add_argument("--glob", metavar="PATTERN", help="inputs matching PATTERN instead of videos (e.g. '*.jpg')")
    batch.add_argument("--workers", type=int, metavar="N", help="inputs at once (default: one per 2 cores)")
    batch.add_argument(
        "--engine", default="local", choices=("local", "ray"), help="local worker processes, or Ray tasks on a cluster"
    )
    batch.add_argument(
        "--force", action="store_true", help="redo every input; default: skip those done with the same options"
    )
    batch.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (default: a local Ray)")
    batch.add_argument("--retries", type=int, default=1, metavar="K", help="retries of a transient failure")
    add_analyze_options(batch)
    batch.set_defaults(run=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    """Exit 0 when every input is ok or skipped, 1 when some failed (index.csv lists them)."""
    from fervideo.run import batch as engine_mod

    workers = max(1, (os.cpu_count() or 1) // 2) if args.workers is None else args.workers  # 0 is an error
    if workers < 1 or args.retries < 0:
        raise UsageError("--workers must be 1 or more and --retries 0 or more")
    if workers > MAX_WORKERS:  # a typo: Ray refuses a CPU count over 1e14, and a process pool would fork without end
        raise UsageError(f"--workers {workers}: at most {MAX_WORKERS} (each worker is a process on this machine)")
    options = make_options(args)
    inputs = engine_mod.find_inputs(args.folder, args.out_dir, args.recursive, args.glob)
    if not inputs:
        raise UsageError(f"no inputs under {args.folder}" + ("" if args.recursive else " (try --recursive)"))
    jobs = engine_mod.plan(args.folder, inputs, args.out_dir)
    workers = min(workers, len(jobs))  # more would sit idle, and a local Ray would be sized for them all
    if args.engine == "ray":
        engine = engine_mod.RayEngine(workers, args.ray_address)
    else:
        engine = engine_mod.LocalEngine(workers)
    board = _Board(len(jobs), engine)
    if args.verbose and not args.quiet:
        err.print(
            f"{len(jobs)} inputs, {workers} workers ({args.engine}); model {args.model}, device {args.device}, "
            f"precision {args.precision}, every {args.every}, fps {args.fps}, from {args.start:g} s"
            f"{'' if args.end is None else f' to {args.end:g} s'}"
        )
    if not args.quiet:
        warn_if_no_h264([job.input for job in jobs], output_options(args))
    run = partial(
        engine_mod.run_batch, jobs, args.out_dir, options, engine, output_options(args), args.retries, force=args.force
    )
    if args.quiet or not err.is_terminal:  # a log (nohup, cron, CI): one line per finished input, no live board
        rows = run(events=None if args.quiet else _log_line(len(jobs)))
    else:
        with Live(err) as live:
            live.update(board.render())
            rows = run(events=lambda kind, job: live.update(board.event(kind, job)))
    failed = [row for row in rows if row.get("status") == "failed"]
    if not args.quiet:
        counts = {s: sum(r.get("status") == s for r in rows) for s in ("ok", "skipped", "failed")}
        err.print(
            f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed; "
            f"index: {Path(args.out_dir) / 'index.csv'}"
        )
        for row in failed:
            err.print(f"  failed: {printable(failure(row))}")
    return EXIT_FAILED if failed else EXIT_OK


def failure(row: dict) -> str:
    """An index row's input and error, the input named once (most errors begin with it already)."""
    error = str(row.get("error", ""))
    return error if error.startswith(f"{row['input']}:") else f"{row['input']}: {error}"


def _log_line(total: int) -> object:
    """An events callback printing `[3/10] ok clip.mp4 (12.3 s)` as each input finishes."""
    done = 0

    def event(kind: str, job: object) -> None:
        nonlocal done
        if kind != "done":
            return
        done += 1
        row = job.row
        what = failure(row) if row.get("status") == "failed" else row["input"]
        took = f" ({float(row['seconds']):.1f} s)" if row.get("seconds") else ""
        err.print(f"[{done}/{total}] {row.get('status')} {printable(what)}{took}")

    return event


class _Board:
    """The live display: inputs done of total, failures so far, and what each worker is on."""

    def __init__(self, total: int, engine: object) -> None:
        self.total, self.done, self.failed, self.engine = total, 0, 0, engine

    def event(self, kind: str, job: object) -> list[str]:
        if kind == "done":
            self.done += 1
            self.failed += job.row.get("status") == "failed"
        return self.render()

    def render(self) -> list[str]:
        lines = [f"{err.bold(f'{self.done}/{self.total}')} inputs done, {self.failed} failed"]
        return lines + [f"  working on {printable(job.input)}" for job in self.engine.running()[:16]]
