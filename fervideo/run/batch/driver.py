"""The batch driver: which inputs, which are done already, running the rest with retries, the index."""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from fervideo.core.atomic import abandoned, prepare_out_dir, record_committed
from fervideo.core.errors import OutputError, UsageError
from fervideo.core.journal import recover_tree
from fervideo.core.layout import OutputOptions, output_paths
from fervideo.core.signals import check
from fervideo.engine.pipeline import AnalyzeOptions
from fervideo.run import owned
from fervideo.run.batch.engines import Engine
from fervideo.run.batch.jobs import BATCH_FILES, Job, failed_row, refuse_foreign_index, skipped_row, write_index
from fervideo.run.batch.overview import write_overview

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv")


def find_inputs(folder: Path, out_dir: Path, recursive: bool = False, pattern: str | None = None) -> list[Path]:
    """Videos under folder (and files matching pattern, images included), sorted, skipping hidden and outputs."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    out_dir = out_dir.resolve()
    apart = out_dir != folder.resolve()  # -o DIR itself: outputs lie beside the inputs
    found = []
    for path in sorted(folder.rglob("*") if recursive else folder.glob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if apart and (out_dir == path.resolve().parent or out_dir in path.resolve().parents):
            continue  # our own outputs, when OUT_DIR lies inside the folder
        if pattern is not None:
            if fnmatch.fnmatch(rel.as_posix(), pattern) or fnmatch.fnmatch(path.name, pattern):
                found.append(path)
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            found.append(path)
    # what an earlier run wrote beside its inputs (clip.annotated.mp4, clip.csv, ...) is not an input
    ours = {(out_dir / name).resolve() for name in BATCH_FILES}
    for job in plan(folder, found, out_dir):  # under either naming: plain stems, or whole names when they clash
        for stem in (None, job.input.name):
            ours |= {out.resolve() for out in output_paths(job.input, job.out_dir, stem).values()}
    return [path for path in found if path.resolve() not in ours]


def plan(folder: Path, inputs: list[Path], out_dir: Path) -> list[Job]:
    """One job per input; outputs mirror the input's subfolder, and inputs whose stems clash keep their suffix."""
    jobs = [Job(path, out_dir / path.relative_to(folder).parent) for path in inputs]
    stems = Counter((job.out_dir, job.input.stem.lower()) for job in jobs)  # case too: IMG_1.JPG and img_1.mov
    for job in jobs:
        batch_own = job.out_dir == out_dir and job.input.stem.lower() == "index"  # index.csv is the batch's
        if batch_own or stems[job.out_dir, job.input.stem.lower()] > 1:
            job.stem = job.input.name  # clip.mp4.json beside clip.mov.json
    return jobs


# options that do not change a result: where it runs, and how many faces go through the model at once
NEUTRAL_OPTIONS = ("device", "batch_size")


def result_options(options: dict) -> dict:
    """The options that decide a result, in their JSON form, for comparing a run's with an earlier one's."""
    return {k: v for k, v in json.loads(json.dumps(options)).items() if k not in NEUTRAL_OPTIONS}


def is_complete(job: Job, outputs: OutputOptions, options: AnalyzeOptions | None = None) -> dict | None:
    """The JSON summary of an earlier complete run on the unchanged input with the same options, or None."""
    paths = output_paths(job.input, job.out_dir, job.stem)
    try:
        summary = json.loads(paths["json"].read_text())
        unchanged = owned.of_input(summary, job.input) and owned.unchanged(summary, job.input)
        if outputs.write_video and not summary["input"].get("is_image"):  # a photo is written as it came
            asked = summary["output_options"]["codec"] if "output_options" in summary else summary["video"]["codec"]
            unchanged = unchanged and asked == outputs.codec
            # a video drawn with other --draw layers is another video; runs from before --draw drew none
            unchanged = unchanged and summary.get("output_options", {}).get("draw", []) == list(outputs.draw)
        if options is not None:
            unchanged = unchanged and result_options(summary["options"]) == result_options(options.to_dict())
        unchanged = unchanged and summary["episodes"]["min_seconds"] == outputs.min_episode
    # no options recorded: an older run; RecursionError: a JSON nested too deep
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    wanted = [paths["csv"], paths["episodes"]] + ([paths["video"]] if outputs.write_video else [])
    wanted += [paths[f] for f in outputs.export]
    wanted += [paths["report"], paths["timeline"]] if outputs.report else []
    return summary if unchanged and all(p.is_file() for p in wanted) else None


def completed(path: Path, out_dir: Path, options: AnalyzeOptions, outputs: OutputOptions) -> dict | None:
    """For analyze --skip-existing: the summary of an earlier complete run of path into out_dir, or None."""
    return is_complete(Job(Path(path), Path(out_dir)), outputs, options)


def remove_partials(out_dir: Path) -> int:
    """Delete temporary outputs left by runs that died; those of a run still going (an analyze) stay."""
    recover_tree(out_dir)  # first: what a commit cut short had moved aside goes back, not away
    removed = 0
    for path in out_dir.rglob(".*.partial*"):
        if path.is_file() and abandoned(path):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


Events = Callable[[str, Job], None]  # ("start" | "done", job)


def run_batch(
    jobs: list[Job],
    out_dir: Path,
    options: AnalyzeOptions,
    engine: Engine,
    outputs: OutputOptions | None = None,
    retries: int = 1,
    events: Events | None = None,
    force: bool = False,
) -> list[dict]:
    """Skip inputs complete with these options (none with force), run the rest with retries, keep index.csv.

    outputs: which files beside the CSV and JSON (default: the annotated video).
    """
    outputs = outputs or OutputOptions()
    try:
        prepare_out_dir(out_dir)
        remove_partials(out_dir)
        refuse_foreign_index(out_dir, jobs, outputs.report)
    except BaseException:
        engine.close()  # a Ray started for this batch stops with it
        raise
    events = events or (lambda kind, job: None)
    queue = []
    for job in jobs:
        earlier = None if force else is_complete(job, outputs, options)
        if earlier is not None:
            job.row = skipped_row(job, earlier)
            events("done", job)
        elif (clash := foreign_result(job)) is not None:
            job.row = failed_row(job, clash)
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
            check()  # a stop whose KeyboardInterrupt a library swallowed
            for job, row in engine.wait_one():
                if row.get("transient") and job.attempts <= retries:
                    job.attempts += 1
                    engine.submit(job, options, outputs)
                    events("start", job)
                    continue
                job.row = {"input": str(job.input)} | {k: v for k, v in row.items() if k != "transient"}
                if job.row["status"] == "ok":  # a worker committed it, so a stop from now on keeps it
                    record_committed([output_paths(job.input, job.out_dir, job.stem)["json"]])
                pending -= 1
                events("done", job)
                _save(out_dir, jobs, False)  # a full disk fails the index now, not the batch: retried below
    except KeyboardInterrupt:
        for job in jobs:
            if not job.row:
                job.row = failed_row(job, "interrupted")
        engine.close()
        remove_partials(out_dir)  # what the stopped workers left half-written
        raise
    finally:
        engine.close()
        # the reports' overview, also after an interruption: the inputs done so far
        unsaved = _save(out_dir, jobs, outputs.report)
    if unsaved is not None:
        done = Counter(job.row.get("status") for job in jobs)
        raise OutputError(
            f"could not write {unsaved[0]}: {unsaved[1].strerror or unsaved[1]}; this batch: {done['ok']} ok, "
            f"{done['skipped']} skipped, {done['failed']} failed; make room and run it again: it redoes only the rest"
        )
    return [job.row for job in jobs]


def foreign_result(job: Job) -> str | None:
    """Why job must not run: its JSON's name holds the result of another input (another batch's); else None."""
    return owned.another_input(output_paths(job.input, job.out_dir, job.stem)["json"], job.input)


def _save(out_dir: Path, jobs: list[Job], overview: bool) -> tuple[Path, OSError] | None:
    """Write index.csv (and index.html); on failure, which file and why, so that the batch goes on."""
    path = out_dir / "index.csv"
    try:
        write_index(out_dir, jobs)
        if overview:
            path = out_dir / "index.html"
            write_overview(out_dir, jobs)
    except OSError as exc:
        return path, exc
    return None
