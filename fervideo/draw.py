"""Drawing results onto frames: a stateless step, separate from analysis."""

from __future__ import annotations

import cv2
import numpy as np

from fervideo.detections import Detections
from fervideo.labels import EMOTIONS

# Tab10-like colours in BGR, one per track id, so a person keeps their colour.
PALETTE = np.array(
    [
        (180, 119, 31),
        (14, 127, 255),
        (44, 160, 44),
        (40, 39, 214),
        (189, 103, 148),
        (75, 86, 140),
        (194, 119, 227),
        (127, 127, 127),
        (34, 189, 188),
        (207, 190, 23),
    ],
    np.uint8,
)


def annotate(frame: np.ndarray, faces: Detections, classes: tuple[str, ...] = EMOTIONS) -> np.ndarray:
    """Draw each face's box, track id, top emotion and its probability onto frame, in place; returns frame."""
    height, width = frame.shape[:2]
    scale = max(0.75, min(width, height) / 480)
    thickness = max(1, round(2 * scale))
    for i in range(len(faces)):
        x0, y0, x1, y1 = np.round(faces.xyxy[i]).astype(int)
        track = int(faces.tracker_id[i]) if faces.tracker_id is not None else 0
        color = tuple(int(c) for c in PALETTE[track % len(PALETTE)])
        cv2.rectangle(frame, (x0, y0), (x1, y1), color, thickness)
        label = f"#{track}"
        if faces.probs is not None:
            top = int(np.argmax(faces.probs[i]))
            label += f" {classes[top]} {faces.probs[i, top]:.2f}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, thickness)
        ty = y0 - 4 if y0 - th - base - 4 >= 0 else min(y1 + th + base + 4, height - 1)
        cv2.rectangle(frame, (x0, ty - th - base), (x0 + tw + 4, ty + base // 2), color, cv2.FILLED)
        cv2.putText(
            frame,
            label,
            (x0 + 2, ty - base // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6 * scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )
    return frame


def draw_bars(frame: np.ndarray, faces: Detections, classes: tuple[str, ...] = EMOTIONS) -> np.ndarray:
    """Draw a small bar chart of each face's probabilities beside its box, in place; returns frame."""
    if faces.probs is None:
        return frame
    height, width = frame.shape[:2]
    scale = max(0.75, min(width, height) / 480)
    row, bar_len = round(11 * scale), round(60 * scale)
    for i in range(len(faces)):
        x0, y0, x1, _ = np.round(faces.xyxy[i]).astype(int)
        left = x1 + 6 if x1 + 6 + bar_len + 50 * scale < width else max(x0 - bar_len - round(56 * scale), 0)
        for k, (name, p) in enumerate(zip(classes, faces.probs[i], strict=True)):
            y = max(y0, 0) + k * row
            if y + row > height:
                break
            cv2.rectangle(frame, (left, y + 1), (left + bar_len, y + row - 1), (40, 40, 40), cv2.FILLED)
            cv2.rectangle(frame, (left, y + 1), (left + round(bar_len * float(p)), y + row - 1), (80, 200, 255), -1)
            cv2.putText(
                frame,
                name[:3],
                (left + bar_len + 3, y + row - 2),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.3 * scale,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
            )
    return frame


def draw_fps(frame: np.ndarray, fps: float) -> np.ndarray:
    """Write the current frames/s in the top-left corner, in place; returns frame."""
    scale = max(0.75, min(frame.shape[:2]) / 480)
    cv2.putText(
        frame,
        f"{fps:.0f} fps",
        (8, round(22 * scale)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.6 * scale,
        (0, 255, 255),
        max(1, round(2 * scale)),
        cv2.LINE_AA,
    )
    return frame
