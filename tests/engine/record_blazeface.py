"""Record what mediapipe's own face-detection graph finds in pictures that anyone can rebuild, for test_blazeface.

mediapipe 0.10.21, the last release with that graph, pins numpy<2 and so stays out of the dev install; its
answers are recorded once here into blazeface_reference.json, which the test compares fervideo's BlazeFace with.
The pictures come from samples/demo.mp4 and matplotlib's public-domain portrait of Grace Hopper, nothing else.
Run in a venv that has mediapipe==0.10.21 (and numpy<2) beside fervideo:

    python -m tests.engine.record_blazeface
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "demo.mp4"
REFERENCE = Path(__file__).with_name("blazeface_reference.json")


def frames(path: Path, count: int) -> list[np.ndarray]:
    """The first count frames of a video, BGR."""
    capture = cv2.VideoCapture(str(path))
    read = [capture.read() for _ in range(count)]
    capture.release()
    return [image for ok, image in read if ok]


def pictures() -> dict[str, np.ndarray]:
    """BGR pictures by name: the sample's frames (the face, the empty wall), the portrait turned, shrunk, framed."""
    from matplotlib import cbook

    found = {f"demo.mp4 frame {i}": image for i, image in enumerate(frames(SAMPLE, 150)) if i % 10 == 0}
    portrait = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    small = cv2.resize(portrait, (59, 100), interpolation=cv2.INTER_AREA)  # odd sizes: the warp's rounding shows
    found |= {
        "grace_hopper.jpg": portrait,
        "grace_hopper.jpg turned": cv2.rotate(portrait, cv2.ROTATE_90_CLOCKWISE),  # tall
        "grace_hopper.jpg twice": np.hstack([portrait, portrait[:, ::-1]]),  # two faces
        "grace_hopper.jpg 59x100": small,
        "grace_hopper.jpg 59x100 framed": cv2.copyMakeBorder(
            small, 25, 25, 50, 50, cv2.BORDER_CONSTANT, value=(128, 128, 128)
        ),
        "black 320x240": np.zeros((240, 320, 3), np.uint8),
    }
    return {name: np.ascontiguousarray(image) for name, image in found.items()}


def digest(image: np.ndarray) -> str:
    """sha256 of a picture's pixels: tells a decoder that differs from one whose faces differ."""
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def graph_faces(graph: object, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What mediapipe's Python solution returns, in pixels and best first."""
    height, width = bgr.shape[:2]
    boxes, scores, points = [], [], []
    for det in graph.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).detections or []:
        rel = det.location_data.relative_bounding_box
        x0, y0 = rel.xmin * width, rel.ymin * height
        boxes.append([x0, y0, x0 + rel.width * width, y0 + rel.height * height])
        scores.append(det.score[0])
        points.append([(k.x * width, k.y * height) for k in det.location_data.relative_keypoints])
    order = np.argsort(-np.array(scores), kind="stable")
    return np.array(boxes).reshape(-1, 4)[order], np.array(scores)[order], np.array(points).reshape(-1, 6, 2)[order]


def main() -> None:
    """Run both of the graph's models on every picture and write the reference."""
    import mediapipe
    from mediapipe.python.solutions.face_detection import FaceDetection

    images = pictures()
    record: dict = {
        "mediapipe": mediapipe.__version__,
        "opencv": cv2.__version__,
        "pictures": {name: {"shape": list(image.shape), "sha256": digest(image)} for name, image in images.items()},
        "models": {},
    }
    for selection, name in ((0, "short_range"), (1, "full_range")):
        with FaceDetection(model_selection=selection, min_detection_confidence=0.5) as graph:
            record["models"][name] = {}
            for picture, bgr in images.items():
                boxes, scores, points = graph_faces(graph, bgr)
                record["models"][name][picture] = [
                    {"score": float(s), "xyxy": b.round(4).tolist(), "keypoints": p.round(4).tolist()}
                    for b, s, p in zip(boxes, scores, points, strict=True)
                ]
    REFERENCE.write_text(json.dumps(record, indent=1) + "\n")
    faces = sum(len(v) for model in record["models"].values() for v in model.values())
    print(f"{REFERENCE}: {len(images)} pictures, {faces} faces")


if __name__ == "__main__":
    main()
