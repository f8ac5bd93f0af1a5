"""Batch throughput: videos per hour and frames per second with 1 and 2 local workers.

    python benchmarks/batch.py [--video ../shared/media/single_face.mp4] [--copies 8] [--workers 1 2]

Copies the clip into a temporary folder and runs the same batch engine `fervideo batch` uses, with the
annotated video on, timing the whole batch (model loading in each worker included).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from cli_args import fail, positive_int, run  # benchmarks/ is on the path when the script runs

from fervideo.engine.pipeline import AnalyzeOptions
from fervideo.run.batch import LocalEngine, find_inputs, plan, run_batch

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "media" / "single_face.mp4")
    parser.add_argument("--copies", type=positive_int, default=8)
    parser.add_argument("--workers", nargs="+", type=positive_int, default=[1, 2])
    parser.add_argument("--model", default=AnalyzeOptions.model)
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found; pass --video")
    print(f"{args.copies} copies of {args.video.name}, model {args.model}, annotated video on")
    print(f"{'workers':>7s} {'seconds':>8s} {'videos/hour':>12s} {'frames/s':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i in range(args.copies):
            shutil.copy(args.video, folder / f"clip{i:03d}{args.video.suffix}")
        for workers in args.workers:
            out = Path(tmp) / f"out{workers}"
            jobs = plan(folder, find_inputs(folder, out), out)
            tic = time.perf_counter()
            rows = run_batch(jobs, out, AnalyzeOptions(model=args.model), LocalEngine(workers))
            seconds = time.perf_counter() - tic
            if failed := [r for r in rows if r["status"] != "ok"]:
                fail(f"{failed[0]['input']}: {failed[0]['status']}: {failed[0]['error']}")
            frames = sum(int(r["frames"]) for r in rows)
            print(f"{workers:7d} {seconds:8.1f} {len(rows) / seconds * 3600:12.0f} {frames / seconds:9.1f}")


if __name__ == "__main__":
    run(main)
