"""Analyze throughput next to the I/O floor (decode + re-encode with OpenCV alone), measured in one run.

    python benchmarks/throughput.py [--video ../shared/media/single_face.mp4] [--loop 1] [--repeat 3]

Prints frames/s for: decoding only, decoding + re-encoding (the floor every annotating tool pays),
`fervideo analyze` with the annotated video, and without it (--no-video); best of --repeat runs.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import cv2
import torch

from fervideo.job import analyze_file
from fervideo.models import DEFAULT_MODEL
from fervideo.pipeline import AnalyzeOptions, Analyzer

ROOT = Path(__file__).resolve().parents[1]


def looped_copy(video: Path, loops: int, folder: Path) -> Path:
    """The clip played `loops` times in a row, re-encoded once (mp4v), so long runs can be measured."""
    if loops == 1:
        return video
    capture = cv2.VideoCapture(str(video))
    frames = []
    while (frame := capture.read()[1]) is not None:
        frames.append(frame)
    fps = capture.get(cv2.CAP_PROP_FPS)
    out = folder / f"{video.stem}.x{loops}.mp4"
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for _ in range(loops):
        for frame in frames:
            writer.write(frame)
    writer.release()
    return out


def decode_only(video: Path) -> int:
    """Decode every frame; returns the frame count."""
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    return count


def decode_encode(video: Path, out: Path) -> int:
    """Decode every frame and encode it again with OpenCV's mp4v writer."""
    capture = cv2.VideoCapture(str(video))
    fps, size = capture.get(cv2.CAP_PROP_FPS), (int(capture.get(3)), int(capture.get(4)))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    count = 0
    while (frame := capture.read()[1]) is not None:
        writer.write(frame)
        count += 1
    writer.release()
    return count


def best_time(fn, repeat: int) -> tuple[float, int]:
    """Fastest wall time of repeat runs, and what the run returned."""
    times, result = [], None
    for _ in range(repeat):
        tic = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - tic)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "media" / "single_face.mp4")
    parser.add_argument("--loop", type=int, default=1, help="play the clip this many times in a row")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found; pass --video")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = looped_copy(args.video, args.loop, tmp)
        rows = []
        seconds, frames = best_time(lambda: decode_only(video), args.repeat)
        rows.append(("decode only", frames, seconds))
        floor, _ = best_time(lambda: decode_encode(video, tmp / "floor.mp4"), args.repeat)
        rows.append(("decode + encode (floor)", frames, floor))
        with Analyzer(AnalyzeOptions(model=args.model, device="cpu")) as analyzer:
            for label, with_video in (("analyze", True), ("analyze --no-video", False)):
                seconds, summary = best_time(
                    lambda v=with_video: analyze_file(video, tmp / "out", analyzer, v), args.repeat
                )
                rows.append((label, summary["counts"]["frames_read"], seconds))
    print(
        f"{args.video.name} x{args.loop}, {frames} frames; {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, model {args.model}, best of {args.repeat}"
    )
    print(f"{'step':26s} {'frames':>7s} {'seconds':>8s} {'frames/s':>9s} {'x floor':>8s}")
    for label, count, seconds in rows:
        print(f"{label:26s} {count:7d} {seconds:8.2f} {count / seconds:9.1f} {seconds / floor:8.2f}")


if __name__ == "__main__":
    main()
