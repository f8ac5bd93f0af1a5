"""Where analyze's CPU time goes, stage by stage, in one real run.

    python benchmarks/stages.py [--video ../shared/media/single_face.mp4] [--loop 26] [-- ANALYZE OPTIONS]

The clip is looped as benchmarks/adaptive.py loops it, then `fervideo analyze` runs in this process with each stage
below wrapped in a timer of its thread's CPU time (time.thread_time: the models run on the calling thread, one
ONNX Runtime thread each). Each figure is exclusive: a stage called inside another counts once, in the inner one.
"the rest" is the process's CPU time less the stages (start-up, tracking glue, hand-offs between threads);
ffmpeg's x264 is the encoder's own, a child process.
"""

from __future__ import annotations

import argparse
import inspect
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from adaptive import MEDIA, looped
from cli_args import positive_int, run
from throughput import machine

# (module, attribute path, stage) in the order of a frame's way through the engine
STAGES = [
    ("fervideo.engine.source", "VideoSource._video_frames", "decoding (OpenCV's FFmpeg)"),
    ("fervideo.engine.schedule", "thumbnails", "box thumbnails (search on change)"),
    ("fervideo.engine.blazeface", "BlazeFace.__call__", "detector (BlazeFace)"),
    ("fervideo.engine.tracker", "IoUTracker.update", "tracker"),
    ("fervideo.engine.identity", "FaceEmbedder.__call__", "re-identification"),
    ("fervideo.engine.crop", "crop_faces", "48x48 face crops"),
    ("fervideo.engine.schedule", "ChangeGate.decide", "change gate"),
    ("fervideo.engine.landmarks", "_warp", "mesh and iris crops"),
    ("fervideo.engine.landmarks", "FaceMesh._run_mesh", "face mesh model"),
    ("fervideo.engine.landmarks", "FaceMesh._run_iris", "iris model"),
    ("fervideo.engine.pose", "face_features", "pose, eyes, gaze"),
    ("fervideo.engine.classifier", "EmotionClassifier.predict", "emotion classifier"),
    ("fervideo.engine.smoothing", "EmaSmoother.__call__", "smoothing"),
    ("fervideo.outputs.sinks", "CsvSink.write", "CSV"),
    ("fervideo.outputs.draw", "annotate", "drawing"),
    ("fervideo.outputs.encoder", "H264Sink.write", "video pipe (I420 to ffmpeg)"),
]


class Stages:
    """Exclusive thread-CPU seconds and calls per stage, from timers put around functions."""

    def __init__(self) -> None:
        self.cpu: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._local = threading.local()

    def _timed(self, stage: str, step: Callable[[], object]) -> object:
        stack = self._local.__dict__.setdefault("stack", [])
        stack.append(0.0)  # the CPU time of the stages inside this one
        start = time.thread_time()
        try:
            return step()
        finally:
            spent = time.thread_time() - start
            self.cpu[stage] += spent - stack.pop()
            self.calls[stage] += 1
            if stack:
                stack[-1] += spent

    def wrap(self, module: str, path: str, stage: str) -> None:
        """Time every call of module.path (a function, a method, or a generator function: each next())."""
        owner = __import__(module, fromlist=["_"])
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def timed(*args: object, **kwargs: object) -> object:
            return self._timed(stage, lambda: original(*args, **kwargs))

        def timed_steps(*args: object, **kwargs: object) -> Iterator[object]:
            items = original(*args, **kwargs)
            done = object()
            while (item := self._timed(stage, lambda: next(items, done))) is not done:
                yield item

        wrapped = timed_steps if inspect.isgeneratorfunction(original) else timed
        setattr(owner, name, wrapped)
        if not outer:  # a function: modules that imported it by name hold it too
            for other in list(sys.modules.values()):
                if getattr(other, "__name__", "").startswith("fervideo") and getattr(other, name, None) is original:
                    setattr(other, name, wrapped)


def main() -> None:
    """Run analyze once on the looped clip and print each stage's share."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=MEDIA / "single_face.mp4")
    parser.add_argument(
        "--loop", type=positive_int, default=26, help="play the clip this many times (26: 1,872 frames)"
    )
    parser.add_argument("analyze", nargs="*", help="more analyze options, after --")
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found; pass --video")
    stages = Stages()
    for module, path, stage in STAGES:
        stages.wrap(module, path, stage)
    from fervideo.entry import run

    with tempfile.TemporaryDirectory() as tmp_name:
        clip = looped(args.video, args.loop, Path(tmp_name) / f"loop{args.video.suffix}")
        own, child = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        sys.argv = ["fervideo", "analyze", str(clip), "-o", str(Path(tmp_name) / "out"), "-q", *args.analyze]
        code = run()
        own_after, child_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    if code:
        raise SystemExit(f"analyze failed with exit status {code}")
    process = own_after.ru_utime + own_after.ru_stime - own.ru_utime - own.ru_stime
    encoder = child_after.ru_utime + child_after.ru_stime - child.ru_utime - child.ru_stime
    print(f"{machine()}; {args.video.name} x{args.loop}; analyze {' '.join(args.analyze) or '(defaults)'}")
    print(f"  {'stage':36} {'CPU s':>7} {'calls':>6} {'ms/call':>8} {'share':>6}")
    for stage, seconds in [*stages.cpu.most_common(), ("the rest", process - sum(stages.cpu.values()))]:
        calls = stages.calls[stage]
        per_call = f"{1000 * seconds / calls:8.2f}" if calls else " " * 8
        print(f"  {stage:36} {seconds:7.2f} {calls or '':>6} {per_call} {seconds / process:6.1%}")
    print(f"  analyze's process: {process:.2f} s CPU; ffmpeg (x264 and the sound): {encoder:.2f} s")


if __name__ == "__main__":
    run(main)
