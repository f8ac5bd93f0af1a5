"""Analyze throughput per model next to the I/O floor, and classification alone, measured in one run.

    python benchmarks/throughput.py [--video ../shared/media/single_face.mp4] [--loop 21] [--repeat 2]
                                    [--models cnn vit fernet vit_b16] [--batch-sizes 1 8 32 128]

Prints three tables: decoding only and decoding + mp4v re-encoding with OpenCV alone (the floor every
annotating tool pays); `fervideo analyze` with its H.264 annotated video and with --no-video, in frames/s
and as a multiple of the floor's time per frame, for each model; and classification alone in faces/s
(benchmarks/classify.py). Best of --repeat runs. Models slower than --slow faces/s are timed on the
first --slow-frames frames only, so that vit_b16 at 224x224 does not take minutes.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.choices import DEFAULT_MODEL
from fervideo.engine.models import list_models
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.engine.runtime import use_cores, use_threads
from fervideo.engine.source import Sampling
from fervideo.outputs.encoder import H264Sink
from fervideo.run.job import analyze_file

sys.path.insert(0, str(Path(__file__).parent))
from classify import faces_per_second, load  # noqa: E402  (the sibling benchmark, not a package)
from cli_args import positive_float, positive_int, run  # noqa: E402

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


def first_frames(video: Path, count: int) -> list[np.ndarray]:
    """The video's first count frames, played again from the start as often as it takes."""
    capture, frames = cv2.VideoCapture(str(video)), []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = capture.read()
        frames.append(frame)
    return frames


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


def decode_encode_h264(video: Path, out: Path) -> int:
    """Decode every frame and encode it with the annotated video's own H.264 writer (ffmpeg, libx264)."""
    capture = cv2.VideoCapture(str(video))
    fps, size = capture.get(cv2.CAP_PROP_FPS), (int(capture.get(3)), int(capture.get(4)))
    count = 0
    with H264Sink(out, fps, *size) as sink:
        while (frame := capture.read()[1]) is not None:
            sink.write(frame)
            count += 1
    return count


def best_time(fn, repeat: int) -> tuple[float, object]:
    """Fastest wall time of repeat runs, and what the run returned."""
    times, result = [], None
    for _ in range(repeat):
        tic = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - tic)
    return min(times), result


def best_ms(run, items: list, repeat: int) -> tuple[float, int]:
    """Best ms an item over repeat passes of run over items, and what run counted in the last pass."""
    best, counted = float("inf"), 0
    for _ in range(repeat):
        start, counted = time.perf_counter(), 0
        for item in items:
            counted += run(item)
        best = min(best, (time.perf_counter() - start) / len(items) * 1e3)
    return best, counted


def machine() -> str:
    """CPU model and cores, for the tables' headline."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    simd = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "no AVX2"
    return f"{name}, {len(os.sched_getaffinity(0))} cores, {simd}"


def analyze_rate(
    video: Path, out: Path, name: str, with_video: bool, repeat: int, end: float | None, every: int = 1
) -> tuple:
    """Frames/s of analyze_file with model name, the classifier's precision and the frames read."""
    options = AnalyzeOptions(model=name, device="cpu", sampling=Sampling(every=every, end=end))
    with Analyzer(options, classifier=load(name)) as analyzer:
        seconds, summary = best_time(lambda: analyze_file(video, out, analyzer, with_video), repeat)
        count = summary["counts"]["frames_read"]
        return count / seconds, analyzer.classifier.precision, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "media" / "single_face.mp4")
    parser.add_argument("--loop", type=positive_int, default=21, help="play the clip this many times in a row")
    parser.add_argument("--repeat", type=positive_int, default=2)
    parser.add_argument("--models", nargs="+", default=[e.name for e in list_models()])
    parser.add_argument("--batch-sizes", nargs="+", type=positive_int, default=[1, 8, 32, 128])
    parser.add_argument("--seconds", type=positive_float, default=3.0, help="per classification measurement")
    parser.add_argument("--slow", type=float, default=100.0, help="faces/s below which a model is slow")
    parser.add_argument("--slow-frames", type=positive_int, default=240)
    parser.add_argument("--every", type=positive_int, default=5, help="also time the default model on every N-th frame")
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found; pass --video")
    classify = {}  # classification alone, one ONNX Runtime thread (the default until use_cores below)
    for name in args.models:
        classifier = load(name)
        classify[name] = [faces_per_second(classifier, b, args.seconds) for b in args.batch_sizes]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = looped_copy(args.video, args.loop, tmp)
        decode, frames = best_time(lambda: decode_only(video), args.repeat)
        floor, _ = best_time(lambda: decode_encode(video, tmp / "floor.mp4"), args.repeat)
        h264, _ = best_time(lambda: decode_encode_h264(video, tmp / "h264.mp4"), args.repeat)
        fps = cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FPS)
        rows = []
        use_cores()  # as `fervideo analyze` does
        for name in args.models:
            slow = max(classify[name]) < args.slow
            end = args.slow_frames / fps if slow else None
            repeat = 1 if slow else args.repeat
            with_video, precision, count = analyze_rate(video, tmp / "out", name, True, repeat, end)
            without, _, _ = analyze_rate(video, tmp / "out", name, False, repeat, end)
            rows.append((name, precision, count, with_video, without))
        if args.every > 1:  # the lever left when the detector, not the model, is the limit
            with_video, precision, count = analyze_rate(
                video, tmp / "out", DEFAULT_MODEL, True, args.repeat, None, args.every
            )
            without, _, _ = analyze_rate(video, tmp / "out", DEFAULT_MODEL, False, args.repeat, None, args.every)
            rows.append((f"{DEFAULT_MODEL} --every {args.every}", precision, count, with_video, without))
        use_threads(os.cpu_count() or 1)
    floor_fps = frames / floor
    print(f"{machine()}")
    print(f"{args.video.name} x{args.loop}: {frames} frames; best of {args.repeat}; default model {DEFAULT_MODEL}\n")
    print(f"{'I/O floor':28s} {'frames/s':>9s}")
    print(f"{'decode only':28s} {frames / decode:9.1f}")
    print(f"{'decode + mp4v encode (floor)':28s} {floor_fps:9.1f}")
    print(f"{'decode + H.264 encode':28s} {frames / h264:9.1f}  (what analyze writes: {h264 / floor:.2f}x the floor)\n")
    columns = ("precision", 9), ("frames", 7), ("video fps", 10), ("x floor", 8), ("no-video fps", 13), ("x floor", 8)
    print(f"{'analyze':18s} " + " ".join(f"{title:>{width}s}" for title, width in columns))
    for name, precision, count, with_video, without in rows:
        print(
            f"{name:18s} {precision:>9s} {count:7d} {with_video:10.1f} {floor_fps / with_video:8.2f} "
            f"{without:13.1f} {floor_fps / without:8.2f}"
        )
    print(f"\n{'faces/s':10s} " + " ".join(f"{'batch ' + str(b):>10s}" for b in args.batch_sizes))
    for name, rates in classify.items():
        print(f"{name:10s} " + " ".join(f"{r:10.0f}" for r in rates))


if __name__ == "__main__":
    run(main)
