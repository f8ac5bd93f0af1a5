"""Time and peak memory of `fervideo analyze` on long synthetic clips without faces: both must stay linear and flat.

    python benchmarks/long_clip.py [--minutes 1 2 4] [--size 16] [--fps 30] [--no-video]

Writes, for each length, a SIZExSIZE clip of moving noise (no face anywhere) with cv2.VideoWriter, runs the
real CLI on it in a fresh process (benchmarks/memory.run_analyze: the child's own peak RSS) and prints seconds
and peak RSS per run, seconds per minute of video, and RSS at 25/50/75/100 % of the run. Target: seconds per
minute of the longest run within 1.5x of the shortest's, and peak RSS within 10 MB of it. Until the analyser
also bounded the number of frames it holds back (pipeline.PENDING_FRAMES), a face-free clip of tiny frames was
held whole, released only at its end (no faces to fill a classifier batch, 16x16 frames far below its byte
bound): 5 min took 42 s, 20 min 225 s, 2 hours never finished and grew past 685 MB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from cli_args import positive_float, positive_int, run
from memory import quartiles, run_analyze

from fervideo.core.choices import DEFAULT_MODEL

TIME_RATIO = 1.5
RSS_GROWTH_MB = 10.0  # run-to-run noise is about 2 MB; the old growth was about 3 MB a minute


def synthetic_clip(path: Path, minutes: float, size: int, fps: float) -> int:
    """A face-free clip of moving noise, minutes long; returns its frame count."""
    import cv2

    frames = max(1, round(minutes * 60 * fps))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size))
    if not writer.isOpened():
        raise SystemExit(f"OpenCV cannot write {path}")
    rng = np.random.default_rng(0)
    tiles = rng.integers(0, 256, (64, size, size, 3), dtype=np.uint8)  # a few distinct pictures, cycled
    for i in range(frames):
        writer.write(tiles[i % len(tiles)])
    writer.release()
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=positive_float, nargs="+", default=[1, 2, 4], help="clip lengths, shortest first"
    )
    parser.add_argument("--size", type=positive_int, default=16, help="width and height in pixels")
    parser.add_argument("--fps", type=positive_float, default=30.0)
    parser.add_argument("--no-video", action="store_true", help="skip the annotated video")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for minutes in sorted(args.minutes):
            video = tmp / f"noface-{minutes:g}min.mp4"
            frames = synthetic_clip(video, minutes, args.size, args.fps)
            extra = ("--no-video",) if args.no_video else ()
            peak, seconds, samples = run_analyze(video, tmp / f"out-{minutes:g}", args.model, extra)
            rows.append((minutes, frames, seconds, peak, quartiles(samples)))
            print(f"{minutes:g} min: {seconds:.1f} s, peak {peak:.0f} MB", file=sys.stderr, flush=True)
            video.unlink()
    video_on = "off" if args.no_video else "on"
    print(f"{args.size}x{args.size} at {args.fps:g} fps, no faces; model {args.model}, annotated video {video_on}")
    print(f"{'min':>5s} {'frames':>7s} {'seconds':>8s} {'s/min':>6s} {'peak MB':>8s}  RSS MB at 25/50/75/100 %")
    for minutes, frames, seconds, peak, curve in rows:
        print(f"{minutes:5g} {frames:7d} {seconds:8.1f} {seconds / minutes:6.1f} {peak:8.1f}  {curve}")
    first, last = rows[0], rows[-1]
    ratio = (last[2] / last[0]) / (first[2] / first[0])
    growth = last[3] - first[3]
    ok = ratio < TIME_RATIO and growth < RSS_GROWTH_MB
    print(
        f"seconds per minute x{ratio:.2f} (target < {TIME_RATIO:g}), peak RSS {growth:+.1f} MB "
        f"(target < {RSS_GROWTH_MB:g}): {'ok' if ok else 'FAIL'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    run(main)
