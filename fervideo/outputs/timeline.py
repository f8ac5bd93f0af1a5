"""The timeline plot: each track's seven probabilities stacked over time, one panel per track.

Drawn with OpenCV, which the analysis loads anyway: matplotlib and its fonts, Pillow and friends were about 100 MB
of the install for this one picture.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from fervideo.core.labels import EMOTIONS
from fervideo.outputs.results import ResultTable

WIDTH, PANEL, HEADER = 1000, 170, 70  # pixels: figure width, height per track panel, legend and axis label
MAX_PANELS = 12  # a crowd would make a poster; the longest tracks are shown
COLORS = {  # one colour per emotion, the same in the plot and the report's table
    "angry": "#d62728",
    "disgust": "#8c8c2a",
    "fear": "#9467bd",
    "happy": "#f2b701",
    "sad": "#1f77b4",
    "surprise": "#17becf",
    "neutral": "#b0b0b0",
}
LEGEND, LEFT, RIGHT = 36, 70, 16  # the legend's band above the panels; the margins beside the plots
PAD_TOP, PAD_BOTTOM = 8, 14  # inside a panel, around its plot
FONT, INK, AXIS = cv2.FONT_HERSHEY_SIMPLEX, (40, 40, 40), (110, 110, 110)


def plotted_tracks(table: ResultTable) -> list[int]:
    """The tracks that get a panel: all of them, or the MAX_PANELS seen in the most frames, by id."""
    ids = table.track_ids()
    frames = {t: int(np.count_nonzero(table.face_id == t)) for t in ids}
    return sorted(sorted(ids, key=lambda t: (-frames[t], t))[:MAX_PANELS])


def timeline_size(table: ResultTable) -> tuple[int, int]:
    """(width, height) of the PNG in pixels."""
    return WIDTH, HEADER + PANEL * max(1, len(plotted_tracks(table)))


def timeline_png(table: ResultTable) -> bytes:
    """The plot as PNG bytes; a track's band is empty where it is out of view."""
    tracks = plotted_tracks(table)
    width, height = timeline_size(table)
    image = np.full((height, width, 3), 255, np.uint8)
    frames, times = table.frame_times()
    series = {track: _track_series(table, track, frames) for track in tracks}
    instant = float(times[0]) if len(times) == 1 else None
    if instant is not None:  # a photo: one instant, drawn as a block, under no time axis (it would invent a second)
        times = np.array([times[0], times[0] + 1.0])
        series = {track: np.repeat(s, 2, axis=0) for track, s in series.items()}
    span = (float(times[0]), float(times[-1])) if len(times) else (0.0, 1.0)
    x0, x1 = LEFT, width - RIGHT
    for row in range(max(1, len(tracks))):
        y0, y1 = LEGEND + row * PANEL + PAD_TOP, LEGEND + (row + 1) * PANEL - PAD_BOTTOM
        if tracks:
            track = tracks[row]
            columns = _columns(times, series[track], x1 - x0)
            image[y0:y1, x0:x1] = _stacked(columns, y1 - y0)
            for value in (0.0, 0.5, 1.0):
                y = round(y1 - value * (y1 - y0 + 1))  # 0 on the bottom line of the frame, 1 on its top
                cv2.line(image, (x0 - 4, y), (x0 - 1, y), AXIS, 1)
                _text(image, f"{value:g}", (x0 - 7, y), 0.4, 1, align=(1.0, 0.5))
            _text(image, f"#{track}", (x0 - 34, (y0 + y1) // 2), 0.55, 2, align=(1.0, 0.5))
        else:
            _text(image, "no face found", ((x0 + x1) // 2, (y0 + y1) // 2), 0.55, 1, align=(0.5, 0.5))
        cv2.rectangle(image, (x0 - 1, y0 - 1), (x1, y1), AXIS, 1)  # crisp: anti-aliased, it would bleed inside
    if instant is None:
        _time_axis(image, span, (x0, x1), LEGEND + max(1, len(tracks)) * PANEL - PAD_BOTTOM)
    else:
        _text(image, f"one frame, at {instant:g} s", ((x0 + x1) // 2, height - 10), 0.45, 1, align=(0.5, 0.5))
    _legend(image)
    ok, png = cv2.imencode(".png", image)
    if not ok:  # OpenCV's own PNG encoder on an array it made: a broken build, not bad data
        raise RuntimeError("OpenCV could not encode the timeline as PNG")
    return png.tobytes()


def _track_series(table: ResultTable, track: int, frames: np.ndarray) -> np.ndarray:
    """(T, 7) probabilities of track at each analysed frame, zeros where it is not in view."""
    series = np.zeros((len(frames), len(EMOTIONS)))
    rows = np.flatnonzero(table.face_id == track)
    series[np.searchsorted(frames, table.frame[rows])] = table.probs[rows]
    return series


def _columns(times: np.ndarray, series: np.ndarray, width: int) -> np.ndarray:
    """(width, 7): each pixel column's probabilities; the mean of its frames, or interpolated between frames."""
    if len(times) == 0:
        return np.zeros((width, len(EMOTIONS)))
    edges = np.linspace(times[0], times[-1], width + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    values = np.stack([np.interp(centres, times, series[:, k]) for k in range(series.shape[1])], axis=1)
    # a long video has many frames to a column: their mean, so that a short expression is not skipped over
    column = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, width - 1)
    counts = np.bincount(column, minlength=width)
    sums = np.zeros_like(values)
    np.add.at(sums, column, series)
    many = counts > 1
    values[many] = sums[many] / counts[many, None]
    return values


def _stacked(columns: np.ndarray, height: int) -> np.ndarray:
    """(height, width, 3) BGR: the bands stacked from the bottom, each pixel coloured by how much of it each covers."""
    tops = np.cumsum(np.clip(columns, 0, None), axis=1) * height  # (width, 7), in pixels from the bottom
    bottoms = np.concatenate([np.zeros((len(tops), 1)), tops[:, :-1]], axis=1)
    rows = np.arange(height)[::-1, None, None]  # pixel row r covers [r, r + 1) above the bottom
    cover = np.clip(np.minimum(rows + 1, tops[None]) - np.maximum(rows, bottoms[None]), 0, 1)  # (height, width, 7)
    colors = np.array([_bgr(COLORS[e]) for e in EMOTIONS], float)
    white = 1 - cover.sum(axis=2, keepdims=True).clip(0, 1)
    return np.rint(cover @ colors + white * 255).clip(0, 255).astype(np.uint8)


def _time_axis(image: np.ndarray, span: tuple[float, float], xs: tuple[int, int], y: int) -> None:
    """Ticks at round seconds under the last panel, and the axis' name under them."""
    (t0, t1), (x0, x1) = span, xs
    step = _tick_step(t1 - t0)
    for i in range(math.ceil(t0 / step - 1e-9), math.floor(t1 / step + 1e-9) + 1):
        t = i * step
        x = round(x0 + (t - t0) / max(t1 - t0, 1e-9) * (x1 - x0))
        cv2.line(image, (x, y + 1), (x, y + 4), AXIS, 1)
        _text(image, f"{round(t, 6):g}", (x, y + 16), 0.4, 1, align=(0.5, 0.5))
    _text(image, "time (s)", ((x0 + x1) // 2, image.shape[0] - 10), 0.45, 1, align=(0.5, 0.5))


def _tick_step(seconds: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) that gives about 6 to 12 ticks."""
    rough = max(seconds, 1e-6) / 10
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


def _legend(image: np.ndarray) -> None:
    """A swatch and the name of each emotion, in one centred row above the panels."""
    items = [(e, cv2.getTextSize(e, FONT, 0.45, 1)[0][0]) for e in EMOTIONS]
    total = sum(12 + 6 + w for _, w in items) + 22 * (len(items) - 1)
    x, y = (image.shape[1] - total) // 2, LEGEND // 2
    for name, w in items:
        cv2.rectangle(image, (x, y - 6), (x + 12, y + 6), _bgr(COLORS[name]), -1, cv2.LINE_AA)
        _text(image, name, (x + 18, y), 0.45, 1, align=(0.0, 0.5))
        x += 12 + 6 + w + 22


def _text(image: np.ndarray, text: str, at: tuple[int, int], scale: float, thick: int, align: tuple) -> None:
    """text anchored at `at`: align is the anchor's place in the text's box, (0, 0) its top left."""
    (w, h), _ = cv2.getTextSize(text, FONT, scale, thick)
    origin = (round(at[0] - align[0] * w), round(at[1] + (1 - align[1]) * h))  # putText's origin: the baseline
    cv2.putText(image, text, origin, FONT, scale, INK, thick, cv2.LINE_AA)


def _bgr(hex_color: str) -> tuple[int, int, int]:
    """'#rrggbb' as OpenCV's (b, g, r)."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r
