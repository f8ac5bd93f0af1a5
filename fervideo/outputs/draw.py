"""Drawing results onto frames: a stateless step, separate from analysis.

Text is sized to the frame with a floor that stays legible after H.264 (a 14 px cap height at 360p), drawn on
a solid plate in the track's colour with black or white letters, whichever contrasts more; each label goes
where it hides no other face and no other label (above its box, below it, or inside its top edge).
"""

from __future__ import annotations

import cv2
import numpy as np

from fervideo.core.detections import FACE_FEATURES, Detections
from fervideo.core.labels import EMOTIONS

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
FONT = cv2.FONT_HERSHEY_DUPLEX
CAP_AT_SCALE_1 = 22  # cap height in pixels of FONT at fontScale 1
MIN_CAP, MIN_BAR_CAP = 14, 10  # pixels: below these, letters blur into each other after H.264
LAYERS = ("landmarks", "pose")  # what --draw may add under the boxes and labels
NOSE_TIP = 1  # the face mesh's point where the pose axes start
# BGR: red across the face (the person's left, the image's right at rest), green up, blue out of the face
AXIS_COLORS = ((0, 0, 255), (0, 200, 0), (255, 80, 0))


def text_style(frame: np.ndarray, min_cap: int = MIN_CAP, per_side: float = 1 / 26) -> tuple[float, int]:
    """(fontScale, thickness) for text whose cap height grows with the frame, never below min_cap pixels."""
    cap = max(min_cap, min(frame.shape[:2]) * per_side)
    return cap / CAP_AT_SCALE_1, max(1, round(cap / 9))


def ink(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on color (BGR)."""
    b, g, r = color
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def label_text(faces: Detections, i: int, classes: tuple[str, ...]) -> str:
    """The label of face i: its track id, then its top emotion and that emotion's probability."""
    track = int(faces.tracker_id[i]) if faces.tracker_id is not None else 0
    if faces.probs is None:
        return f"{track}"
    top = int(np.argmax(faces.probs[i]))
    return f"{track}: {classes[top]} {faces.probs[i, top]:.0%}"


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_label(
    box: tuple[int, int, int, int], size: tuple[int, int], frame_size: tuple[int, int], taken: list[tuple]
) -> tuple[int, int, int, int]:
    """The plate (x0, y0, x1, y1) for a label of size (w, h) near box, inside the frame and clear of taken (other
    faces and labels): above the box, below it, inside its top, then a row further out; else the least crowded."""
    (x0, y0, x1, y1), (w, h), (width, height) = box, size, frame_size
    rows = [y0 - h, y1, y0, y0 - 2 * h, y1 + h]
    columns = [x0, (x0 + x1 - w) // 2, x1 - w, x0 - w // 2, x1 - w // 2]  # aligned left, centred, right, leaning out
    plates = []
    for y in rows:
        for x in columns:
            if 0 <= y <= height - h:
                left = int(min(max(x, 0), max(width - w, 0)))  # plain ints: np.clip was a tenth of a frame's drawing
                plates.append((left, y, left + w, y + h))
    if not plates:  # a frame smaller than the label: its top-left corner
        return (0, 0, w, h)
    return min(plates, key=lambda p: sum(_overlap(p, other) for other in taken))  # the first clear one, if any


def annotate(
    frame: np.ndarray, faces: Detections, classes: tuple[str, ...] = EMOTIONS, draw: tuple[str, ...] = ()
) -> np.ndarray:
    """Draw each face's box, track id, top emotion and its probability onto frame, in place; returns frame.

    draw adds LAYERS under them: "landmarks" (the face mesh's points), "pose" (the head's axes)."""
    if "landmarks" in draw:
        draw_landmarks(frame, faces)
    if "pose" in draw:
        draw_pose(frame, faces)
    height, width = frame.shape[:2]
    scale, thickness = text_style(frame)
    pad = max(2, round(4 * scale))
    boxes = [tuple(int(v) for v in np.round(faces.xyxy[i])) for i in range(len(faces))]
    for i, box in enumerate(boxes):
        cv2.rectangle(frame, box[:2], box[2:], _color(faces, i), max(2, thickness))
    taken = list(boxes)
    for i, box in enumerate(boxes):
        text = label_text(faces, i, classes)
        (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
        others = [b for k, b in enumerate(taken) if k != i]  # its own box may be covered, only by its label
        plate = place_label(box, (tw + 2 * pad, th + base + 2 * pad), (width, height), others)
        taken.append(plate)
        color = _color(faces, i)
        cv2.rectangle(frame, plate[:2], (plate[2] - 1, plate[3] - 1), color, cv2.FILLED)
        origin = (plate[0] + pad, plate[1] + pad + th)
        cv2.putText(frame, text, origin, FONT, scale, ink(color), thickness, cv2.LINE_AA)
    return frame


def draw_landmarks(frame: np.ndarray, faces: Detections) -> np.ndarray:
    """Dot each face's mesh points in its track's colour, in place; faces without a mesh are left alone."""
    if faces.landmarks is None:
        return frame
    height, width = frame.shape[:2]
    side = 2 if min(height, width) >= 720 else 1  # dots that survive H.264 without hiding the face
    for i in range(len(faces)):
        points = faces.landmarks[i]
        if np.isnan(points).any():
            continue
        xy = np.round(points).astype(np.int64)
        for dx in range(side):
            for dy in range(side):
                x, y = xy[:, 0] + dx, xy[:, 1] + dy
                inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
                frame[y[inside], x[inside]] = _color(faces, i)
    return frame


def draw_pose(frame: np.ndarray, faces: Detections) -> np.ndarray:
    """Draw each face's head axes from its yaw, pitch and roll (fervideo/engine/pose.py's signs), in place:
    from the nose tip (the box's centre without a mesh), half the box's width long."""
    if faces.features is None:
        return frame
    thickness = max(2, round(min(frame.shape[:2]) / 240))
    for i in range(len(faces)):
        yaw, pitch, roll = np.radians(faces.features[i, [FACE_FEATURES.index(n) for n in ("yaw", "pitch", "roll")]])
        if np.isnan([yaw, pitch, roll]).any():
            continue
        x0, y0, x1, y1 = faces.xyxy[i]
        nose = faces.landmarks[i, NOSE_TIP] if faces.landmarks is not None else np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        if np.isnan(nose).any():
            nose = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        axes = head_axes(yaw, pitch, roll) * (x1 - x0) / 2
        start = tuple(int(v) for v in np.round(nose))
        for axis, color in zip(axes, AXIS_COLORS, strict=True):
            end = tuple(int(v) for v in np.round(nose + axis))
            cv2.line(frame, start, end, color, thickness, cv2.LINE_AA)
    return frame


def head_axes(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 2) image directions (x right, y down) of the face's across (its left), up and forward unit axes, for
    angles in radians: yaw > 0 turns forward to the image's right, pitch > 0 up, roll > 0 clockwise."""
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    turn = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])  # about the vertical: (0, 0, -1) to (sin, 0, -cos)
    tilt = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])  # about the horizontal: forward goes up (-y)
    lean = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])  # in the image plane, clockwise with y down
    rotation = lean @ turn @ tilt
    face = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])  # across, up, forward (towards the camera)
    return (rotation @ face.T).T[:, :2]  # seen from the camera: depth dropped


def _color(faces: Detections, i: int) -> tuple[int, int, int]:
    track = int(faces.tracker_id[i]) if faces.tracker_id is not None else 0
    return tuple(int(c) for c in PALETTE[track % len(PALETTE)])


def draw_bars(frame: np.ndarray, faces: Detections, classes: tuple[str, ...] = EMOTIONS) -> np.ndarray:
    """Draw a bar chart of each face's seven probabilities beside its box, on a dark plate, in place."""
    if faces.probs is None:
        return frame
    height, width = frame.shape[:2]
    scale, thickness = text_style(frame, MIN_BAR_CAP, 1 / 40)
    (name_w, cap), _ = cv2.getTextSize("surprise", FONT, scale, thickness)
    row, bar_len, pad = round(cap * 1.7), round(cap * 6), round(cap * 0.4)
    chart_w, chart_h = name_w + bar_len + 3 * pad, row * len(classes) + pad
    for i in range(len(faces)):
        x0, y0, x1, _ = np.round(faces.xyxy[i]).astype(int)
        left = x1 + pad if x1 + pad + chart_w <= width else max(x0 - pad - chart_w, 0)
        top = int(np.clip(y0, 0, max(height - chart_h, 0)))
        cv2.rectangle(frame, (left, top), (left + chart_w, top + chart_h), (30, 30, 30), cv2.FILLED)
        for k, (name, p) in enumerate(zip(classes, faces.probs[i], strict=True)):
            y = top + pad + k * row
            cv2.putText(frame, name, (left + pad, y + cap), FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
            bx = left + 2 * pad + name_w
            cv2.rectangle(frame, (bx, y), (bx + bar_len, y + cap), (80, 80, 80), cv2.FILLED)
            cv2.rectangle(frame, (bx, y), (bx + round(bar_len * float(p)), y + cap), (80, 200, 255), cv2.FILLED)
    return frame


def draw_fps(frame: np.ndarray, fps: float) -> np.ndarray:
    """Write the current frames/s in the top-left corner on a dark plate, in place; returns frame."""
    scale, thickness = text_style(frame)
    text = f"{fps:.0f} fps"
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, round(4 * scale))
    cv2.rectangle(frame, (0, 0), (tw + 2 * pad, th + base + 2 * pad), (30, 30, 30), cv2.FILLED)
    cv2.putText(frame, text, (pad, pad + th), FONT, scale, (0, 255, 255), thickness, cv2.LINE_AA)
    return frame
