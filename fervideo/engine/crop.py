"""Cut faces out of a frame the way FER2013 framed them: square, whole face, a little margin."""

from __future__ import annotations

import math

import cv2
import numpy as np

# FER2013's 48x48 frame relative to mediapipe's full-range box, medians over 501 upscaled validation
# faces (python -m training.calibrate_crop; IQR of the scale 1.07-1.26). The frame sits a little
# higher than the box: FER2013 keeps the forehead and cuts the chin close.
FER_FRAME_SCALE = 1.15
FER_FRAME_SHIFT = (0.0, -0.062)  # frame-centre shift in box sides (x, y)
FACE_SIZE = 48


def face_squares(xyxy: np.ndarray, scale: float = FER_FRAME_SCALE, shift: tuple = FER_FRAME_SHIFT) -> np.ndarray:
    """Square crop boxes (N, 4) in FER2013 framing for detector boxes (N, 4); may reach past the frame."""
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    wh = xyxy[:, 2:] - xyxy[:, :2]  # (N, 2)
    side = np.maximum(wh[:, 0], wh[:, 1])
    cx = (xyxy[:, 0] + xyxy[:, 2]) / 2 + shift[0] * side
    cy = (xyxy[:, 1] + xyxy[:, 3]) / 2 + shift[1] * side
    half = np.maximum(side * scale / 2, 0.5)
    return np.column_stack([cx - half, cy - half, cx + half, cy + half])


def crop_faces(
    image: np.ndarray, xyxy: np.ndarray, size: int = FACE_SIZE, roll: np.ndarray | None = None
) -> np.ndarray:
    """Grey face crops (N, size, size) uint8 from a (H, W) grey or (H, W, 3) BGR uint8 frame, edges replicated.

    roll (N,) radians, when given, turns each square about its centre so that the eyes come out level.
    A BGR frame is turned grey only where a face is (a whole 640x360 frame costs 0.2 ms a frame here).
    """
    assert image.ndim in (2, 3) and image.dtype == np.uint8, "crop from a grey or BGR uint8 frame"
    if roll is not None and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    squares = np.round(face_squares(xyxy)).astype(np.int64)
    height, width = image.shape[:2]
    out = np.empty((len(squares), size, size), np.uint8)
    for i, (x0, y0, x1, y1) in enumerate(squares):
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        if roll is not None:
            out[i] = _levelled(image, (x0, y0, x1, y1), float(roll[i]), size)
            continue
        # ends clamped at 0 too: a negative end would slice from the far side of the frame instead
        inside = image[max(y0, 0) : max(min(y1, height), 0), max(x0, 0) : max(min(x1, width), 0)]
        if inside.size == 0:  # box entirely outside the frame: nothing to see
            out[i] = 0
            continue
        if inside.ndim == 3:
            inside = cv2.cvtColor(inside, cv2.COLOR_BGR2GRAY)
        pads = (max(-y0, 0), max(y1 - height, 0), max(-x0, 0), max(x1 - width, 0))
        if any(pads):
            inside = cv2.copyMakeBorder(inside, *pads, cv2.BORDER_REPLICATE)
        shrinking = inside.shape[0] > size
        out[i] = cv2.resize(inside, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return out


def _levelled(gray: np.ndarray, square: tuple[int, int, int, int], roll: float, size: int) -> np.ndarray:
    """The square turned by -roll about its centre (the same framing, eyes level), then resized like a crop."""
    x0, y0, x1, y1 = square
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    turn = cv2.getRotationMatrix2D(centre, math.degrees(roll), 1.0)  # (2, 3), about the square's centre
    turn[:, 2] -= (x0, y0)  # then the square's corner to the patch's: with roll 0, exactly the plain crop
    patch = cv2.warpAffine(gray, turn, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shrinking = patch.shape[0] > size
    return cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def turned(crops: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, S, S) crops turned by -roll (N,) radians about their centres, eyes level; corners replicated.

    Coarser than crop_faces(..., roll) (a turned 48x48 crop, not the frame) and 20 times cheaper: enough to see
    where the eyes are, for the change gate."""
    size = crops.shape[-1]
    out = np.empty_like(crops)
    for i, (crop, angle) in enumerate(zip(crops, roll, strict=True)):
        turn = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), math.degrees(float(angle)), 1.0)
        out[i] = cv2.warpAffine(crop, turn, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out
