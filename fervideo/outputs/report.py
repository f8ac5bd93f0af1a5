"""The report: one HTML page (images inlined) that a person can open from disk and read.

It shows the interactive viewer (fervideo.outputs.viewer: the video beside the page, synced with each track's
timeline), the input and the model, a table per track (time on screen, dominant emotion, share of time in
each emotion), the timeline plot (also written as clip.timeline.png) and, per track, the face at the moment
of its strongest emotion of each kind. Nothing from the network; the only script is the viewer's, inlined.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from fervideo.core.atomic import prepare_out_dir, write_bytes
from fervideo.core.errors import InputError, OutputError
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import output_paths
from fervideo.outputs.moments import Moment, moments_from_source
from fervideo.outputs.results import ResultTable, read_table, track_summaries
from fervideo.outputs.timeline import COLORS, MAX_PANELS, plotted_tracks, timeline_png
from fervideo.outputs.viewer import viewer_html

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0;
       background: #f6f6f4; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.sub { color: #666; margin: 0 0 16px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { padding: 4px 10px; text-align: left; border-bottom: 1px solid #e4e4e0; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta th { color: #555; font-weight: 600; width: 170px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.warn { background: #fff6dd; border-left: 4px solid #e0a800; padding: 6px 10px; margin: 4px 0; }
img.plot { width: 100%; height: auto; border: 1px solid #eee; }
.faces { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 8px; }
figure { margin: 0; width: 112px; text-align: center; font-size: 12px; color: #444; }
figure img { width: 96px; height: 96px; border-radius: 6px; border: 3px solid #ddd; image-rendering: auto; }
figure .none { width: 96px; height: 96px; display: inline-block; background: #eee; border-radius: 6px; }
"""


def write_report(paths: dict[str, Path], summary: dict, table: ResultTable, moments: dict[int, list[Moment]]) -> None:
    """Write the timeline PNG and the HTML report, each atomically."""
    plot = timeline_png(table)
    page = render_html(summary, table, plot, moments, paths["report"].parent).encode()  # both before either is written
    try:
        write_bytes(paths["timeline"], plot)
        write_bytes(paths["report"], page)
    except OSError as exc:  # a full disk or a read-only folder: one line, and no plot without its page
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise OutputError(f"{paths['report']}: could not write the report: {exc.strerror or exc}") from exc


def report_from_result(csv_path: str | Path, out_dir: str | Path | None = None) -> tuple[dict[str, Path], list[str]]:
    """Report an existing result (its CSV and the JSON beside it); returns the paths written and warnings."""
    csv_path = Path(csv_path)
    table = read_table(csv_path)
    json_path = csv_path.with_suffix(".json")
    try:
        summary = json.loads(json_path.read_text())
        source_info = summary["input"]
    except FileNotFoundError:
        raise InputError(
            f"{json_path}: no such file; the report needs the JSON that analyze writes beside the CSV"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{json_path}: not a fervideo JSON summary ({exc})") from exc
    # the tracks come from the CSV itself: a hand-edited JSON may lack their fields, never the rows
    summary = {**summary, "tracks": track_summaries(table)}
    source, warning = _find_source(source_info)
    warnings = [warning] if warning else []
    moments = moments_from_source(table, source)
    paths = output_paths(csv_path, prepare_out_dir(out_dir or csv_path.parent))
    paths = {k: paths[k] for k in ("report", "timeline")}
    write_report(paths, {**summary, "warnings": summary.get("warnings", []) + warnings}, table, moments)
    return paths, warnings


def _find_source(info: dict) -> tuple[Path | None, str | None]:
    """The analysed video, if it is still there unchanged; else None and why the report has no faces."""
    for candidate in (info.get("absolute_path"), info.get("path")):
        if candidate and Path(candidate).is_file():
            path = Path(candidate)
            if info.get("size_bytes") not in (None, path.stat().st_size):
                return None, f"{path} changed since it was analysed; the report has no face pictures"
            return path, None
    name = info.get("absolute_path") or info.get("path") or "the source video"
    return None, f"{name} is gone; the report has no face pictures (put it back there to get them)"


def render_html(
    summary: dict, table: ResultTable, plot_png: bytes, moments: dict[int, list[Moment]], page_dir: Path | None = None
) -> str:
    """The whole page as one string; with page_dir, the interactive viewer plays the video from beside it."""
    source = summary.get("input", {})
    title = Path(source.get("path", "result")).name
    tracks = summary.get("tracks", [])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>fervideo report: {escape(title)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{_count(len(tracks), "track")}, '
        f"{_count(summary.get('counts', {}).get('frames_analysed', 0), 'frame')} analysed, "
        f"fervideo {escape(str(summary.get('fervideo_version', '')))}</p>",
        *(f'<div class="warn">{escape(w)}</div>' for w in summary.get("warnings", [])),
        viewer_html(summary, table, page_dir) if page_dir is not None else "",
        "<h2>Input and model</h2>",
        _meta_table(summary),
        "<h2>Tracks</h2>",
        _tracks_table(tracks),
        "<h2>Timeline</h2>",
        _timeline_note(table),
        f'<img class="plot" alt="stacked emotion probabilities over time, one panel per track" '
        f'src="data:image/png;base64,{base64.b64encode(plot_png).decode()}">',
        "<h2>Strongest moments</h2>",
        "<p class=\"sub\">Each track's face at the frame where each emotion's probability was highest.</p>",
        *(_faces(track, moments.get(track["id"], [])) for track in tracks),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _meta_table(summary: dict) -> str:
    source, model = summary.get("input", {}), summary.get("model", {})
    sampling, smoothing = summary.get("sampling", {}), summary.get("smoothing", {})
    rows = [
        ("file", source.get("path", "")),
        (
            ("photo", f"{source.get('width')}x{source.get('height')}")
            if source.get("is_image")
            else (
                "video",
                f"{source.get('width')}x{source.get('height')}, {source.get('fps', 0):g} fps, "
                f"{source.get('duration', 0):g} s, {source.get('frames_read', source.get('frames', 0))} frames",
            )
        ),
        ("analysed", _sampling_text(sampling)),
        (
            "model",
            f"{model.get('name', '?')} (architecture {model.get('arch', '?')}, {model.get('input_size', '?')} px input"
            f"{', test-time augmentation' if model.get('tta') else ''}), sha256 {str(model.get('sha256', ''))[:12]}",
        ),
        (
            "smoothing",
            f"{smoothing['seconds']:g} s exponential moving average per track"
            if smoothing.get("seconds")
            else "none (raw per-frame probabilities)",
        ),
        (
            "processing",
            f"{summary.get('processing', {}).get('seconds', 0):g} s, "
            f"{summary.get('processing', {}).get('frames_per_second', 0):g} frames/s",
        ),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f'<table class="meta">{body}</table>'


def _sampling_text(sampling: dict) -> str:
    every = (
        f"about {sampling['fps']:g} frames per second"
        if sampling.get("fps")
        else ("every frame" if sampling.get("every", 1) == 1 else f"every {sampling['every']}th frame")
    )
    end = sampling.get("end")
    return f"{every}, from {sampling.get('start', 0):g} s to " + (f"{end:g} s" if end is not None else "the end")


def _tracks_table(tracks: list[dict]) -> str:
    if not tracks:
        return "<p>No face was found.</p>"
    head = "".join(
        f'<th class="num"><span class="swatch" style="background:{COLORS[e]}"></span>{e}</th>' for e in EMOTIONS
    )
    rows = []
    for track in tracks:
        frames = max(track["frames"], 1)
        shares = "".join(f'<td class="num">{100 * track["top_emotion_frames"][e] / frames:.0f}%</td>' for e in EMOTIONS)
        rows.append(
            f'<tr><td>#{track["id"]}</td><td class="num">{track.get("seconds", 0):.1f} s</td>'
            f'<td class="num">{track["first_time_s"]:.1f}&ndash;{track["last_time_s"]:.1f} s</td>'
            f'<td class="num">{track["frames"]}</td><td><b>{escape(track["dominant_emotion"])}</b></td>{shares}</tr>'
        )
    return (
        '<table><tr><th>track</th><th class="num">on screen</th><th class="num">from&ndash;to</th>'
        f'<th class="num">frames</th><th>dominant</th>{head}</tr>{"".join(rows)}</table>'
        '<p class="sub">Dominant: highest mean probability. Percentages: share of the track\'s analysed frames '
        "in which that emotion was on top.</p>"
    )


def _timeline_note(table: ResultTable) -> str:
    shown, total = len(plotted_tracks(table)), len(table.track_ids())
    if total <= MAX_PANELS:
        return ""
    return f'<p class="sub">The {shown} tracks seen longest of {total}; the table above lists every track.</p>'


def _faces(track: dict, moments: list[Moment]) -> str:
    figures = []
    for moment in moments:
        picture = (
            f'<img alt="track {track["id"]}, {moment.emotion}" src="data:image/jpeg;base64,'
            f'{base64.b64encode(moment.jpeg).decode()}" style="border-color:{COLORS[moment.emotion]}">'
            if moment.jpeg
            else '<span class="none"></span>'
        )
        figures.append(
            f'<figure title="frame {moment.frame}">{picture}<figcaption><b>{moment.emotion}</b> {moment.prob:.2f}'
            f"<br>at {moment.time_s:.2f} s</figcaption></figure>"
        )
    return f'<h3>Track #{track["id"]}</h3><div class="faces">{"".join(figures)}</div>'
