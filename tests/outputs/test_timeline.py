"""The timeline PNG, drawn with OpenCV: size, bands stacked in proportion, short moments kept, legend and axis."""

from __future__ import annotations

import cv2
import numpy as np

from fervideo.core.labels import EMOTIONS
from fervideo.outputs.results import ResultTable
from fervideo.outputs.timeline import (
    COLORS,
    HEADER,
    LEFT,
    LEGEND,
    PAD_BOTTOM,
    PAD_TOP,
    PANEL,
    RIGHT,
    WIDTH,
    timeline_png,
)

FPS = 25
HAPPY, NEUTRAL = EMOTIONS.index("happy"), EMOTIONS.index("neutral")


def bgr(name: str) -> np.ndarray:
    return np.array([int(COLORS[name][i : i + 2], 16) for i in (5, 3, 1)])


def table(rows: list[tuple[int, int, dict[str, float]]], frames: int) -> ResultTable:
    """A result of `frames` analysed frames; rows: (frame, track, {emotion: probability}); the rest have no face."""
    by_frame: dict[int, list] = {}
    for frame, track, probs in rows:
        by_frame.setdefault(frame, []).append((track, probs))
    frame, time_s, face_id, probs = [], [], [], []
    for i in range(frames):
        for track, p in by_frame.get(i, [(0, {})]):
            frame.append(i), time_s.append(i / FPS), face_id.append(track)
            probs.append([p.get(e, 0.0) for e in EMOTIONS])
    probs = np.array(probs, float)
    emotion = np.where(np.array(face_id) > 0, probs.argmax(axis=1), -1)
    n = len(frame)
    return ResultTable(np.array(frame), np.array(time_s), np.array(face_id), emotion, np.zeros((n, 4)), probs)


def draw(result: ResultTable) -> np.ndarray:
    png = timeline_png(result)
    assert png.startswith(b"\x89PNG")
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


def plot_area(image: np.ndarray, row: int) -> np.ndarray:
    """The pixels inside panel row's frame."""
    y0, y1 = LEGEND + row * PANEL + PAD_TOP, LEGEND + (row + 1) * PANEL - PAD_BOTTOM
    return image[y0:y1, LEFT : WIDTH - RIGHT].astype(int)


def near(pixels: np.ndarray, name: str) -> np.ndarray:
    return np.abs(pixels - bgr(name)).max(axis=-1) <= 3


def test_bands_are_stacked_in_proportion_and_out_of_view_is_empty():
    half = {"happy": 0.5, "neutral": 0.5}
    # two tracks over 10 s: #1 in the first half, #2 in the second
    rows = [(i, 1, half) for i in range(125)] + [(i, 2, {"neutral": 1.0}) for i in range(125, 250)]
    image = draw(table(rows, 250))
    assert image.shape == (HEADER + 2 * PANEL, WIDTH, 3)
    first, second = plot_area(image, 0), plot_area(image, 1)
    column = first[:, first.shape[1] // 4]  # 2.5 s: #1 is in view
    happy, neutral = near(column, "happy"), near(column, "neutral")
    height = len(column)
    assert abs(happy.sum() - height / 2) <= 2 and abs(neutral.sum() - height / 2) <= 2
    assert happy[-1] and neutral[0]  # happy below neutral, in EMOTIONS' order from the bottom
    assert (first[:, 3 * first.shape[1] // 4] == 255).all()  # 7.5 s: #1 is gone, its band empty
    assert near(second[:, 3 * second.shape[1] // 4], "neutral").all()
    assert (second[:, second.shape[1] // 4] == 255).all()


def test_a_short_moment_in_a_long_video_stays_visible():
    frames = 60 * 60 * FPS  # an hour: about 100 frames to a pixel column
    rows = [(i, 1, {"neutral": 1.0}) for i in range(frames)]
    burst = range(frames // 2, frames // 2 + 2 * FPS)  # two seconds of a smile
    rows = [(i, 1, {"happy": 1.0}) if i in burst else r for i, r in enumerate(r for r in rows)]
    image = draw(table([(i, t, p) for i, t, p in rows], frames))
    area = plot_area(image, 0)
    happy_columns = np.flatnonzero(near(area[-3], "happy"))  # three rows above the bottom
    assert len(happy_columns) >= 1 and abs(happy_columns.mean() / area.shape[1] - 0.5) < 0.01


def test_a_photo_gets_a_block_and_no_face_gets_a_note():
    image = draw(table([(0, 1, {"happy": 0.9, "neutral": 0.1})], 1))
    assert image.shape == (HEADER + PANEL, WIDTH, 3)
    assert near(plot_area(image, 0), "happy").mean() > 0.85
    empty = draw(table([], 40))
    assert empty.shape == (HEADER + PANEL, WIDTH, 3)
    area = plot_area(empty, 0)
    assert not any(near(area, e).any() for e in EMOTIONS if e != "neutral")  # grey text only, no band
    assert (area < 128).any()  # the dark "no face found" text


def test_legend_shows_every_emotion_and_the_time_axis_has_labels():
    image = draw(table([(i, 1, {"neutral": 1.0}) for i in range(100)], 100))
    legend = image[:LEGEND].astype(int)
    for emotion in EMOTIONS:
        assert near(legend, emotion).sum() >= 100, emotion  # a swatch of about 12 x 12 pixels
    axis = image[LEGEND + PANEL - PAD_BOTTOM + 1 :, LEFT - 10 :].astype(int)
    dark = (axis.max(axis=-1) < 128).any(axis=0)
    runs = np.count_nonzero(np.diff(dark.astype(int)) == 1)  # separate dark shapes: tick labels and the name
    assert runs >= 6  # 0, 1, 2, 3 (4 s of video) and "time (s)"
