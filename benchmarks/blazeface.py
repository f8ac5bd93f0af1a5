"""BlazeFace run by fervideo (fervideo/engine/blazeface.py) against mediapipe's own graph: ms a frame, one thread.

    python benchmarks/blazeface.py [--video ../shared/media/single_face.mp4] [--frames 300] [--repeat 3]

Both see the same decoded frames; the graph gets them in RGB as its Python API wants, fervideo in BGR as
decoded. Prints the best of --repeat passes for each model and each way, and how many faces each found.
Needs mediapipe 0.10.21, which no extra of fervideo installs (it pins numpy<2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
from cli_args import needs, positive_int, run
from throughput import best_ms, first_frames, machine

from fervideo.core.quiet import native_stderr_silenced
from fervideo.engine.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "media" / "single_face.mp4")
    parser.add_argument("--frames", type=positive_int, default=300)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found")
    needs("mediapipe", "pip install mediapipe==0.10.21, the last release with the graph; it pins numpy<2")
    frames = first_frames(args.video, args.frames)
    with native_stderr_silenced():
        from mediapipe.python.solutions.face_detection import FaceDetection

        graphs = {sel: FaceDetection(model_selection=sel, min_detection_confidence=0.5) for sel in (0, 1)}
    rgb = [cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for frame in frames]
    height, width = frames[0].shape[:2]
    print(f"{machine()}; {len(frames)} frames of {args.video.name}, {width}x{height}; best of {args.repeat}")
    print(f"{'model':<13}{'mediapipe graph':>18}{'fervideo':>12}{'faces (graph / fervideo)':>28}")
    for sel, spec in ((0, SHORT_RANGE), (1, FULL_RANGE)):
        model = BlazeFace(spec)
        graph_ms, graph_faces = best_ms(lambda f, g=graphs[sel]: len(g.process(f).detections or []), rgb, args.repeat)
        own_ms, own_faces = best_ms(lambda f, m=model: len(m(f, bgr=True).score), frames, args.repeat)
        name = ("short-range", "full-range")[sel]
        print(f"{name:<13}{graph_ms:>15.2f} ms{own_ms:>9.2f} ms{f'{graph_faces} / {own_faces}':>28}")


if __name__ == "__main__":
    run(main)
