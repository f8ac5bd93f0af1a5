"""BlazeFace, mediapipe's face detector: its two models, converted to ONNX, run on ONNX Runtime.

mediapipe itself is neither needed nor imported: its Python graph cost about 0.9 ms a frame on top of the
model's own 1.4 ms (short-range model, 640x360 frame, one core here), 0.3 s to import, and its last release
with the face-detection graph pins numpy<2. The steps of that graph are reproduced here: letterbox the frame
into the model's square input, decode the outputs against SSD anchors, drop low scores, blend overlapping boxes
(weighted non-maximum suppression) and map back to the frame. tests/engine/test_blazeface.py checks that against
what the graph found on the same pictures. The .onnx files are what training/tflite_onnx.py made of the .tflite
files mediapipe ships (fervideo/weights/README.md); tests/engine/test_tflite_onnx.py holds them to LiteRT's outputs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fervideo.core.checksum import sha256
from fervideo.core.detections import box_iou
from fervideo.core.errors import ModelError
from fervideo.engine.onnx_model import session

WEIGHTS_DIR = Path(__file__).parents[1] / "weights"
NMS_IOU = 0.3  # mediapipe's face-detection graph: boxes overlapping more than this are blended into one
KEYPOINTS = 6  # right eye, left eye, nose tip, mouth, right ear, left ear (the person's right and left)


@dataclass(frozen=True)
class BlazeSpec:
    """One BlazeFace model as mediapipe's graph configures it."""

    file: str
    side: int  # px: the model's square input
    strides: tuple[int, ...]  # one per SSD layer; consecutive equal strides share a grid
    interpolated: bool  # a second anchor per layer (interpolated_scale_aspect_ratio 1.0)
    min_score: float  # the graph drops anchors under this before blending (its own, whatever the caller asks)
    sha256: str  # of the ONNX file training/tflite_onnx.py wrote (weights/README.md): another one is not BlazeFace


SHORT_RANGE = BlazeSpec(
    "face_detection_short_range.onnx",
    128,
    (8, 16, 16, 16),
    True,
    0.5,
    "624091f66bbc912792a547c28703ebd63afc14ab8ba5c0e62d00fd7f3b7ca657",
)
FULL_RANGE = BlazeSpec(
    "face_detection_full_range_sparse.onnx",
    192,
    (4,),
    False,
    0.6,
    "30df6e5ba20d928f9bb2af2efe558b8637cd1eda13b54e901d7b6f6a5a9b2cbe",
)


@dataclass
class Found:
    """Faces one model found in one image, in its pixels, best first."""

    xyxy: np.ndarray  # (N, 4) float32
    score: np.ndarray  # (N,) float32
    keypoints: np.ndarray  # (N, 6, 2) float32: x, y of each KEYPOINTS entry


class BlazeFace:
    """One BlazeFace model on one thread: BGR or RGB image in, Found out."""

    def __init__(self, spec: BlazeSpec) -> None:
        self.spec = spec
        self._anchors = anchors(spec)
        self._session = session(_verified(spec))
        self._input = self._session.get_inputs()[0].name
        widths = [output.shape[-1] for output in self._session.get_outputs()]  # (1, A, 16) boxes, (1, A, 1) scores
        self._boxes, self._logits = widths.index(4 + 2 * KEYPOINTS), widths.index(1)

    def __call__(self, image: np.ndarray, bgr: bool = False) -> Found:
        """Faces in one (H, W, 3) uint8 image, RGB unless bgr."""
        side = self.spec.side
        where, weights, (x0, y0), span = _letterbox(*image.shape[:2], side)
        square = cv2.remap(image, where, weights, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        tensor = (cv2.cvtColor(square, cv2.COLOR_BGR2RGB) if bgr else square).astype(np.float32)
        tensor *= 2 / 255  # in place: a quarter of the time of numpy's expression and its temporaries
        tensor -= 1  # (S, S, 3) RGB in [-1, 1]
        outputs = self._session.run(None, {self._input: tensor[None]})  # releases the GIL
        raw = outputs[self._boxes][0]  # (A, 16)
        logits = outputs[self._logits][0, :, 0]  # (A,)
        xyxy, score, points = decode(raw, logits, self._anchors, side, self.spec.min_score)
        xyxy, score, points = weighted_nms(xyxy, score, points, NMS_IOU)
        xyxy = xyxy * span + np.array([x0, y0, x0, y0], np.float32)  # model's unit square -> image pixels
        points = points * span + np.array([x0, y0], np.float32)
        return Found(xyxy.astype(np.float32), score.astype(np.float32), points.astype(np.float32))


def anchors(spec: BlazeSpec) -> np.ndarray:
    """(A, 2) anchor centres in the unit square, in the order of the model's outputs (SSD, fixed size)."""
    centres, layer = [], 0
    while layer < len(spec.strides):
        stride = spec.strides[layer]
        shared = 1
        while layer + shared < len(spec.strides) and spec.strides[layer + shared] == stride:
            shared += 1
        grid = -(-spec.side // stride)
        ys, xs = np.mgrid[0:grid, 0:grid]
        cell = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], axis=-1).reshape(-1, 1, 2)  # (G*G, 1, 2)
        per_cell = shared * (2 if spec.interpolated else 1)
        centres.append(np.repeat(cell, per_cell, axis=1).reshape(-1, 2))  # (G*G*per_cell, 2)
        layer += shared
    return np.concatenate(centres).astype(np.float32)


def decode(
    raw: np.ndarray, logits: np.ndarray, centres: np.ndarray, side: int, min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (N, 4) xyxy and keypoints (N, 6, 2) in the unit square, and scores (N,), of anchors over min_score."""
    score = 0.5 * (1 + np.tanh(0.5 * np.clip(logits, -100, 100)))  # the sigmoid, without overflow
    kept = score >= min_score
    offsets, centres = raw[kept] / side, centres[kept]  # (N, 16): centre x, y, width, height, then keypoints
    middle, size = offsets[:, :2] + centres, offsets[:, 2:4]
    xyxy = np.concatenate([middle - size / 2, middle + size / 2], axis=1)
    points = offsets[:, 4:].reshape(-1, KEYPOINTS, 2) + centres[:, None, :]
    return xyxy, score[kept], points


def weighted_nms(
    xyxy: np.ndarray, score: np.ndarray, points: np.ndarray, iou: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BlazeFace's tie resolution: each cluster of overlapping boxes becomes their score-weighted mean."""
    order = np.argsort(-score, kind="stable")
    boxes, scores, keypoints = [], [], []
    while len(order):
        overlap = box_iou(xyxy[order[:1]], xyxy[order])[0]
        together = overlap > iou
        together[0] = True
        cluster, weight = order[together], score[order[together]][:, None]
        boxes.append((xyxy[cluster] * weight).sum(axis=0) / weight.sum())
        keypoints.append((points[cluster] * weight[:, :, None]).sum(axis=0) / weight.sum())
        scores.append(score[order[0]])
        order = order[~together]
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, KEYPOINTS, 2), np.float32)
    return np.stack(boxes), np.array(scores), np.stack(keypoints)


@functools.lru_cache(maxsize=8)
def _letterbox(height: int, width: int, side: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float], int]:
    """Where each pixel of the model's square input samples an image this size, the square's corner and side in it.

    The square is centred on the image; its corners are mapped onto the input's and the warp solved as
    mediapipe's graph does: a warpAffine of the same mapping rounds differently, enough to move a score by
    0.002 on a small photo. A video's frames all share one size, so this is solved once.
    """
    span = max(height, width)
    x0, y0 = (width - span) / 2, (height - span) / 2
    corners = np.array([[x0, y0 + span], [x0, y0], [x0 + span, y0], [x0 + span, y0 + span]], np.float32)
    target = np.array([[0, side], [0, 0], [side, 0], [side, side]], np.float32)
    where, weights = _fixed_maps(cv2.getPerspectiveTransform(corners, target), side)
    return where, weights, (x0, y0), span


def _fixed_maps(warp: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed-point maps (pixel, and 1/32-pixel fraction) that OpenCV 4's warpPerspective builds for cv2.remap.

    Later OpenCV releases warp with new kernels that round differently (5.1 moved the full-range model's
    scores by up to 0.0035 against mediapipe's graph on tests/engine/blazeface_reference.json's pictures).
    These maps are OpenCV 4's, to the bit, rounding included: it inverts the warp with cv::invert and works in
    blocks 64 pixels wide, each row of a block counted from the block's corner. remap with them gives the same
    square on OpenCV 4.11 and 5.1, and the same as 4.11's warpPerspective.
    """
    inverse = cv2.invert(warp.astype(np.float64))[1].ravel()  # input pixel -> image pixel
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64)
    corner = xs // 64 * 64
    step = xs - corner
    x0 = inverse[0] * corner + inverse[1] * ys + inverse[2]
    y0 = inverse[3] * corner + inverse[4] * ys + inverse[5]
    w = inverse[6] * corner + inverse[7] * ys + inverse[8] + inverse[6] * step
    w = np.divide(32.0, w, out=np.zeros_like(w), where=w != 0)
    x = np.rint((x0 + inverse[0] * step) * w).astype(np.int64)  # rint: half to even, as cvRound
    y = np.rint((y0 + inverse[3] * step) * w).astype(np.int64)
    where = np.stack([x >> 5, y >> 5], axis=-1).clip(-32768, 32767).astype(np.int16)
    return where, ((y & 31) * 32 + (x & 31)).astype(np.uint16)


def _verified(spec: BlazeSpec) -> Path:
    """The model's file once its sha256 is checked."""
    path = model_file(spec)
    if not path.is_file():
        raise ModelError(f"the face detector's model {path} is missing; reinstall fervideo")
    if not _intact(path, spec.sha256):
        raise ModelError(f"{path} is not the BlazeFace model fervideo ships (damaged?); reinstall fervideo")
    return path


@functools.lru_cache(maxsize=8)
def _intact(path: Path, expected: str) -> bool:
    """Whether the file hashes to expected, read once per process however many copies of a model are made."""
    return sha256(path) == expected


def model_file(spec: BlazeSpec) -> Path:
    """Where the package keeps this model: fervideo/weights/, beside the classifiers."""
    return WEIGHTS_DIR / spec.file
