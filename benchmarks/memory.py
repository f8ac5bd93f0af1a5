"""Peak memory of `fervideo analyze` on a video and on one 8 times as long: it must not grow with length.

    python benchmarks/memory.py [--video ../shared/media/single_face.mp4] [--min-frames 1500] [--factor 8]

Loops the clip to at least --min-frames frames (1x) and to --factor times that (8x), runs the real CLI on
each in a fresh subprocess (default model, annotated video on), and prints each run's peak resident set
size and the difference; target < 50 MB. The peak is the child's own VmHWM, read by the child at exit: a
child's ru_maxrss (what wait4 and /usr/bin/time report) starts from its parent's RSS at the fork, so a
benchmark that had loaded torch reported torch's 900 MB for every run it started (before 2026-12-01).
RSS is also sampled from /proc while each run goes, so a growth shows up as a slope, not just a bigger peak.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cli_args import positive_int, run
from throughput import looped_copy

from fervideo.core.choices import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 50.0


def rss_mb(pid: int) -> float | None:
    """Current resident set size of a process in MB, None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# runs the command line in this fresh process and, at exit, writes its own peak RSS (kB) to the file in argv[1]
PEAK_PROBE = (
    "import atexit, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "def peak():\n"
    "    hwm = next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))\n"
    "    open(out, 'w').write(hwm.split()[1])\n"
    "atexit.register(peak)\n"
    "sys.argv[0] = 'fervideo'\n"
    "runpy.run_module('fervideo', run_name='__main__')\n"
)


def run_analyze(
    video: Path, out_dir: Path, model: str, extra: tuple[str, ...] = (), command: str = "analyze"
) -> tuple[float, float, list[float]]:
    """Run the CLI once; returns (peak RSS MB, wall seconds, RSS samples MB taken every 0.5 s)."""
    peak_file = out_dir.parent / f".peak-{out_dir.name}"
    argv = [sys.executable, "-c", PEAK_PROBE, str(peak_file), command, str(video), "-o", str(out_dir), "--quiet"]
    argv += [*extra, "--model", model]
    tic = time.perf_counter()
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            value = rss_mb(proc.pid)
            if value is not None:
                samples.append(value)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read()  # drained before waiting, so a chatty child can never block on the pipe
    proc.wait()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""  # fervideo's own one-line error
        raise SystemExit(f"fervideo {command} {video} failed with exit status {proc.returncode}: {last}")
    return int(peak_file.read_text()) / 1024, time.perf_counter() - tic, samples


def quartiles(samples: list[float]) -> str:
    """RSS at 25, 50, 75 and 100 % of the run, to tell a slope from a one-off peak."""
    if len(samples) < 4:
        return "-"
    return " ".join(f"{samples[max(0, math.ceil(q * len(samples)) - 1)]:.0f}" for q in (0.25, 0.5, 0.75, 1.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "media" / "single_face.mp4")
    parser.add_argument("--min-frames", type=positive_int, default=1500, help="frames of the 1x run, at least")
    parser.add_argument("--factor", type=positive_int, default=8, help="the long run is this many times the 1x run")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found; pass --video")
    import cv2

    capture = cv2.VideoCapture(str(args.video))
    clip_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    if clip_frames < 1:
        parser.error(f"{args.video}: OpenCV reports no frame count")
    loops = math.ceil(args.min_frames / clip_frames)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for factor in (1, args.factor):
            video = looped_copy(args.video, loops * factor, tmp)
            peak, seconds, samples = run_analyze(video, tmp / f"out{factor}", args.model)
            rows.append((f"{factor}x", loops * factor * clip_frames, peak, seconds, quartiles(samples)))
            if video != args.video:  # never the input itself; the 8x copy is large, keep one at a time
                video.unlink()
    print(f"{args.video.name}: fervideo analyze, model {args.model}, annotated video on, one fresh process per run")
    print(f"{'run':4s} {'frames':>7s} {'peak RSS MB':>12s} {'seconds':>8s}  RSS MB at 25/50/75/100 % of the run")
    for label, frames, peak, seconds, curve in rows:
        print(f"{label:4s} {frames:7d} {peak:12.1f} {seconds:8.1f}  {curve}")
    growth = rows[1][2] - rows[0][2]
    verdict = "ok" if growth < TARGET_MB else "FAIL"
    extra = rows[1][1] - rows[0][1]
    print(f"difference {growth:+.1f} MB over {extra} more frames (target < {TARGET_MB:g} MB): {verdict}")
    sys.exit(0 if growth < TARGET_MB else 1)


if __name__ == "__main__":
    run(main)
