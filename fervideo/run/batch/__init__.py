"""Batch analysis of a folder: parallel workers or Ray tasks, retries, resumable, an index of every input.

Every engine (batch.engines) runs the same per-input function, batch.worker.process_input, so a
local worker and a Ray task produce identical outputs. Outputs are atomic (JSON last), so an input whose
outputs are complete is skipped on a rerun and a batch killed at any point redoes at most the inputs that
were in flight.
"""

from fervideo.run.batch.driver import completed, find_inputs, is_complete, plan, remove_partials, run_batch
from fervideo.run.batch.engines import Engine, LocalEngine, RayEngine
from fervideo.run.batch.jobs import INDEX_HEADER, Job, write_index

__all__ = [
    "INDEX_HEADER",
    "Engine",
    "Job",
    "LocalEngine",
    "RayEngine",
    "completed",
    "find_inputs",
    "is_complete",
    "plan",
    "remove_partials",
    "run_batch",
    "write_index",
]
