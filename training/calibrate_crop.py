"""Measure where mediapipe puts its box on FER2013 faces, to crop video faces the way FER2013 framed them.

Each 48x48 validation face is upscaled and pasted onto a grey canvas, both BlazeFace models run on it,
and the FER2013 frame is expressed relative to the detector's box: its side as a multiple of the box side
and its centre as a shift in box sides. The medians become the constants in fervideo/engine/crop.py and
fervideo/engine/detector.py.

    python -m training.calibrate_crop --data ../shared/fer2013 --limit 600
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from fervideo.cli.common import HelpFormatter
from fervideo.engine.detector import DetectorConfig, FaceDetector


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.calibrate_crop", formatter_class=HelpFormatter, description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="Kaggle-layout FER2013 folder")
    parser.add_argument("--split", default="val", help="the FER2013 split whose faces are matched")
    parser.add_argument("--limit", type=int, default=600, help="faces to measure")
    parser.add_argument("--side", type=int, default=128, help="upscaled face size in pixels")
    return parser.parse_args(argv)


def measure(detector: FaceDetector, face: np.ndarray, side: int) -> np.ndarray | None:
    """The single detection's box (x0, y0, x1, y1) in FER-frame units (frame = unit square), or None."""
    canvas = np.full((side * 3, side * 3), 128, np.uint8)
    canvas[side : 2 * side, side : 2 * side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    dets = detector(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
    return (dets.xyxy[0] - side) / side if len(dets) == 1 else None


def frame_relative_to(boxes: np.ndarray) -> np.ndarray:
    """For (N, 4) boxes in frame units: frame side over box side, and frame-centre shift in box sides."""
    w = boxes[:, 2] - boxes[:, 0]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    return np.column_stack([1 / w, (0.5 - centre[:, 0]) / w, (0.5 - centre[:, 1]) / w])


def main(args: argparse.Namespace) -> dict:
    paths = sorted((args.data / args.split).glob("*/*.jpg"))
    rng = np.random.default_rng(0)
    paths = [paths[i] for i in rng.permutation(len(paths))[: args.limit]]
    faces = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
    boxes = {}
    for strategy in ("full", "short"):
        config = DetectorConfig(strategy=strategy, min_score=0.3, min_size=1)
        with FaceDetector(config) as detector:
            boxes[strategy] = [measure(detector, face, args.side) for face in faces]
    report = {}
    for strategy, found in boxes.items():
        rel = frame_relative_to(np.array([b for b in found if b is not None]))
        median = np.median(rel, axis=0)
        report[strategy] = {
            "found": len(rel),
            "of": len(faces),
            "frame_over_box": round(float(median[0]), 3),
            "shift_x": round(float(median[1]), 3),
            "shift_y": round(float(median[2]), 3),
            "iqr_frame_over_box": [round(float(q), 3) for q in np.quantile(rel[:, 0], [0.25, 0.75])],
        }
    pairs = [(f, s) for f, s in zip(boxes["full"], boxes["short"], strict=True) if f is not None and s is not None]
    full, short = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    short_w = short[:, 2] - short[:, 0]
    report["short_to_full"] = {
        "pairs": len(pairs),
        "scale": round(float(np.median((full[:, 2] - full[:, 0]) / short_w)), 3),
        "shift_x": round(float(np.median(((full[:, 0] + full[:, 2]) - (short[:, 0] + short[:, 2])) / 2 / short_w)), 3),
        "shift_y": round(float(np.median(((full[:, 1] + full[:, 3]) - (short[:, 1] + short[:, 3])) / 2 / short_w)), 3),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main(parse_args())
