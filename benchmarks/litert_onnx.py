"""mediapipe's face models on LiteRT (the .tflite files) against ONNX Runtime (the converted .onnx): ms, one thread.

    python benchmarks/litert_onnx.py [--video ../shared/media/single_face.mp4] [--frames 300] [--repeat 5]

The same decoded BGR frames go through fervideo's own code with either runtime under it (training/litert.py
puts LiteRT where fervideo.engine.onnx_model.session would): each BlazeFace model alone and the detector as
`fervideo analyze` runs it (auto: short-range every frame, full-range every 5th), in ms a frame with the letterbox
and decoding; then the mesh and both irises on the faces found, in ms a face. Runtimes alternate, pass after
pass; the best of --repeat passes is printed, with the faces each found. Needs the dev extra (ai-edge-litert).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's fervideo, and training.litert (no package)

from cli_args import needs, positive_int, run  # noqa: E402
from throughput import best_ms, first_frames, machine  # noqa: E402

import fervideo.engine.blazeface as blazeface  # noqa: E402
import fervideo.engine.landmarks as landmarks  # noqa: E402
from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace  # noqa: E402
from fervideo.engine.detector import FaceDetector  # noqa: E402
from fervideo.engine.landmarks import FaceMesh  # noqa: E402
from training.litert import LiteRTSession  # noqa: E402

RUNTIMES = ("LiteRT", "ONNX Runtime")


def built(runtime: str) -> dict[str, object]:
    """The models of one runtime: each BlazeFace, the detector and the mesh."""
    real = blazeface.session
    if runtime == "LiteRT":
        for module in (blazeface, landmarks):
            module.session = lambda path: LiteRTSession(path.with_suffix(".tflite"))
    try:
        return {
            "short-range": BlazeFace(SHORT_RANGE),
            "full-range": BlazeFace(FULL_RANGE),
            "detector": FaceDetector(),
            "mesh": FaceMesh(),
        }
    finally:
        blazeface.session = landmarks.session = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "media" / "single_face.mp4")
    parser.add_argument("--frames", type=positive_int, default=300)
    parser.add_argument("--repeat", type=positive_int, default=5)
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found")
    needs("ai_edge_litert", "pip install ai-edge-litert, in the dev extra; no wheels for Python 3.14")
    frames = first_frames(args.video, args.frames)
    models = {runtime: built(runtime) for runtime in RUNTIMES}
    detector = models["ONNX Runtime"]["detector"]
    found = [detector(frame) for frame in frames]  # the same boxes for both meshes
    faces = [(frame, f.xyxy, f.roll) for frame, f in zip(frames, found, strict=True) if len(f) and f.roll is not None]
    count = sum(len(xyxy) for _, xyxy, _ in faces)
    rows = {
        "short-range": (frames, lambda m: lambda f: len(m["short-range"](f, bgr=True).score)),
        "full-range": (frames, lambda m: lambda f: len(m["full-range"](f, bgr=True).score)),
        "detector (auto)": (frames, lambda m: lambda f: len(m["detector"](f))),
        "mesh + irises": (faces, lambda m: lambda face: len(m["mesh"]([face[0]], [face[1]], [face[2]])[0].mesh)),
    }
    best = {(row, rt): (float("inf"), 0) for row in rows for rt in RUNTIMES}
    for _ in range(args.repeat):
        for row, (items, make) in rows.items():
            for runtime in RUNTIMES:
                if row == "detector (auto)":
                    models[runtime]["detector"].reset()
                run = make(models[runtime])
                ms, counted = best_ms(run, items, 1)  # one pass each, runtimes alternated
                best[row, runtime] = (min(ms, best[row, runtime][0]), counted)
    height, width = frames[0].shape[:2]
    source = f"{len(frames)} frames of {args.video.name}, {width}x{height}, {count} faces"
    print(f"{machine()}; {source}; best of {args.repeat}")
    print(f"{'':<17}{'LiteRT':>10}{'ONNX Runtime':>15}{'found (LiteRT / ORT)':>24}")
    for row, (items, _) in rows.items():
        unit = "face" if items is faces else "frame"
        (lite, lite_n), (onnx, onnx_n) = best[row, RUNTIMES[0]], best[row, RUNTIMES[1]]
        print(f"{row:<17}{lite:>7.2f} ms{onnx:>12.2f} ms{f'{lite_n} / {onnx_n}':>24}  a {unit}")
    for runtime in RUNTIMES:
        models[runtime]["detector"].close()


if __name__ == "__main__":
    run(main)
