"""The timeline plot: each track's seven probabilities stacked over time, one panel per track."""

from __future__ import annotations

import io

import numpy as np

from fervideo.core.labels import EMOTIONS
from fervideo.outputs.results import ResultTable

WIDTH, PANEL, HEADER = 1000, 170, 70  # pixels: figure width, height per track panel, legend and axis label
DPI = 100
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
    # matplotlib only when a plot is drawn: importing it costs 0.5 s, which a run without --report never pays
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    tracks = plotted_tracks(table)
    width, height = timeline_size(table)
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    frames, times = table.frame_times()
    series = {track: _track_series(table, track, frames) for track in tracks}
    if len(times) == 1:  # a photo: one instant, drawn as a block one second wide
        times = np.array([times[0], times[0] + 1.0])
        series = {track: np.repeat(s, 2, axis=0) for track, s in series.items()}
    rows = len(tracks) or 1
    top = 1 - 40 / height
    axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    figure.subplots_adjust(left=0.07, right=0.985, top=top, bottom=42 / height, hspace=0.35)
    for ax, track in zip(axes, tracks, strict=False):
        ax.stackplot(times, series[track].T, colors=[COLORS[e] for e in EMOTIONS], lw=0)
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1])
        ax.set_ylabel(f"#{track}", rotation=0, ha="right", va="center", fontsize=11, fontweight="bold")
        ax.margins(x=0)
    if not tracks:
        axes[0].text(0.5, 0.5, "no face found", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_yticks([])
    axes[-1].set_xlabel("time (s)")
    handles = [Patch(color=COLORS[e]) for e in EMOTIONS]
    figure.legend(handles, EMOTIONS, loc="upper center", ncol=len(EMOTIONS), frameon=False, fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _track_series(table: ResultTable, track: int, frames: np.ndarray) -> np.ndarray:
    """(T, 7) probabilities of track at each analysed frame, zeros where it is not in view."""
    series = np.zeros((len(frames), len(EMOTIONS)))
    rows = np.flatnonzero(table.face_id == track)
    series[np.searchsorted(frames, table.frame[rows])] = table.probs[rows]
    return series
