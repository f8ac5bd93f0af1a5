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

from fervideo.core.atomic import AtomicOutput, commit_group, guarded, prepare_out_dir
from fervideo.core.errors import InputError, OutputError
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import output_paths
from fervideo.outputs.fields import export_fields, found_beside, number, percent, section, shown
from fervideo.outputs.moments import Moment, moments_from_source
from fervideo.outputs.record import Owners
from fervideo.outputs.report_features import features_section
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
    """Write the timeline PNG and the HTML report to paths: temporary names, which the caller commits as a group."""
    plot = timeline_png(table)
    page = render_html(summary, table, plot, moments, paths["report"].parent).encode()  # both before either is written
    try:
        paths["timeline"].write_bytes(plot)
        paths["report"].write_bytes(page)
    except OSError as exc:  # a full disk or a read-only folder: one line; the caller discards both
        raise OutputError(f"{paths['report'].parent}: could not write the report: {exc.strerror or exc}") from exc


def report_from_result(csv_path: str | Path, out_dir: str | Path | None = None) -> tuple[dict[str, Path], list[str]]:
    """Report an existing result (its CSV and the JSON beside it); returns the paths written and warnings."""
    csv_path = Path(csv_path)
    table = read_table(csv_path)
    json_path = csv_path.with_suffix(".json")
    try:
        summary = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise InputError(
            f"{json_path}: no such file; the report needs the JSON that analyze writes beside the CSV"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise InputError(f"{json_path}: not a fervideo JSON summary ({exc})") from exc
    export_fields(json_path)  # export's own check of the JSON: a result that one of them refuses, both refuse
    # the tracks come from the CSV itself: a hand-edited JSON may lack their fields, never the rows
    summary = {**summary, "tracks": track_summaries(table), "outputs": _outputs_beside(summary, csv_path.parent)}
    source, warning = _find_source(section(summary, "input"))  # checked; a dict however the file changes
    warnings = [warning] if warning else []
    moments = moments_from_source(table, source)
    finals = output_paths(csv_path, prepare_out_dir(out_dir or csv_path.parent))
    written = {k: finals[k] for k in ("timeline", "report")}
    record = Owners(json_path, finals["json"].parent)  # the JSON beside them, or the folder's record, lists them
    record.check(list(written.values()))  # a user's file at their names: refused before any work
    earlier = summary.get("warnings")
    summary["warnings"] = (earlier if isinstance(earlier, list) else [] if earlier is None else [earlier]) + warnings
    with guarded():  # a failure or a stop, even between the renames, leaves the earlier report, plot and JSON
        staged = {k: AtomicOutput(final) for k, final in written.items()}
        write_report({k: output.tmp for k, output in staged.items()}, summary, table, moments)
        try:
            group = list(staged.values()) + record.stage(written, list(staged.values()))
            record.verify(list(written.values()))
            commit_group(group)  # the page after its plot, the JSON that records both last
        except OSError as exc:
            raise OutputError(f"{finals['report']}: could not put the report in place: {exc.strerror or exc}") from exc
    return {k: staged[k].final for k in ("report", "timeline")}, warnings


def _outputs_beside(summary: dict, folder: Path) -> dict:
    """The JSON's outputs with the annotated video that is there now: beside the CSV (the JSON's path is relative
    to where analyze ran, and the result may have been moved since), else where the JSON says; None if gone."""
    outputs = section(summary, "outputs")
    video = found_beside(outputs.get("video"), folder)
    return {**outputs, "video": None if video is None else str(video.resolve())}


def _find_source(info: dict) -> tuple[Path | None, str | None]:
    """The analysed video, if it is still there unchanged; else None and why the report has no faces."""
    candidates = [c for c in (info.get("absolute_path"), info.get("path")) if isinstance(c, str) and "\0" not in c]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            path = Path(candidate)
            if info.get("size_bytes") not in (None, path.stat().st_size):
                return None, f"{path} changed since it was analysed; the report has no face pictures"
            return path, None
    name = next((c for c in candidates if c), "the source video")
    if info.get("camera") is True:  # live's camera or stream: no file to cut the faces from
        return None, f"{name} was live, not a file; the report has no face pictures"
    return None, f"{name} is gone; the report has no face pictures (put it back there to get them)"


def render_html(
    summary: dict, table: ResultTable, plot_png: bytes, moments: dict[int, list[Moment]], page_dir: Path | None = None
) -> str:
    """The whole page as one string; with page_dir, the interactive viewer plays the video from beside it."""
    source = section(summary, "input")
    title = Path(shown(source.get("path")) or "result").name
    tracks = summary.get("tracks", [])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>fervideo report: {escape(title)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{_count(len(tracks), "track")}, '
        f"{_count(section(summary, 'counts').get('frames_analysed', 0), 'frame')} analysed, "
        f"fervideo {escape(shown(summary.get('fervideo_version')))}</p>",
        *(f'<div class="warn">{escape(shown(w))}</div>' for w in summary.get("warnings", [])),
        viewer_html(summary, table, page_dir) if page_dir is not None else "",
        "<h2>Input and model</h2>",
        _meta_table(summary),
        "<h2>Tracks</h2>",
        _tracks_table(tracks),
        features_section(tracks),
        "<h2>Timeline</h2>",
        _timeline_note(table),
        f'<img class="plot" alt="stacked emotion probabilities over time, one panel per track" '
        f'src="data:image/png;base64,{base64.b64encode(plot_png).decode()}">',
        "<h2>Strongest moments</h2>",
        '<p class="sub">Each track\'s face at the frame where each emotion it showed (on top in at least one '
        "analysed frame) was strongest.</p>",
        *(_faces(track, moments.get(track["id"], [])) for track in tracks),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _count(n: object, noun: str) -> str:
    return escape(f"{shown(n)} {noun}{'s' * (n != 1)}")


def _meta_table(summary: dict) -> str:
    source, model = section(summary, "input"), section(summary, "model")
    sampling, smoothing = section(summary, "sampling"), section(summary, "smoothing")
    processing = section(summary, "processing")
    g = {k: shown(source.get(k)) for k in ("width", "height", "fps", "duration")}  # every field may be anything
    # the frames decoded count the file's frames only when the whole file was read: with --end they stop there
    whole = sampling.get("end") is None and source.get("frames_read") is not None
    frames = shown(source.get("frames_read") if whole else source.get("frames", 0))
    rows = [
        ("file", shown(source.get("path"))),
        (
            ("photo", f"{g['width']}x{g['height']}")
            if source.get("is_image") is True
            else ("video", f"{g['width']}x{g['height']}, {g['fps']} fps, {g['duration']} s, {frames} frames")
        ),
        ("analysed", _sampling_text(sampling, source)),
        (
            "model",
            f"{shown(model.get('name', '?'))} (architecture {shown(model.get('arch', '?'))}, "
            f"{shown(model.get('input_size', '?'))} px input{', test-time augmentation' if model.get('tta') else ''}), "
            f"sha256 {shown(model.get('sha256'))[:12]}",
        ),
        (
            "smoothing",
            f"{shown(smoothing['seconds'])} s exponential moving average per track"
            if smoothing.get("seconds")
            else "none (raw per-frame probabilities)",
        ),
        (
            "processing",
            f"{shown(processing.get('seconds', 0))} s, {shown(processing.get('frames_per_second', 0))} frames/s",
        ),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="meta">{body}</table>'


def _sampling_text(sampling: dict, source: dict) -> str:
    """Which frames were analysed, in the source's seconds; a photo is one picture, whatever the options said."""
    if source.get("is_image") is True:
        return "the photo"
    every = (
        f"about {shown(sampling['fps'])} frames per second"
        if sampling.get("fps")
        else ("every frame" if sampling.get("every", 1) == 1 else f"every {_ordinal(sampling['every'])} frame")
    )
    end, duration = number(sampling.get("end")), number(source.get("duration"), least=0.0)
    # an --end past the video analysed up to its end: "to 3 s" of a 2.4 s clip would claim seconds it lacks
    past = end is not None and duration is not None and duration > 0 and end >= duration
    end_text = f"{shown(end)} s" if end is not None and not past else "the end"
    return f"{every}, from {shown(sampling.get('start', 0))} s to {end_text}"


def _ordinal(n: object) -> str:
    """3 -> "3rd", 11 -> "11th"; anything that is no whole number as it is."""
    if not isinstance(n, int) or isinstance(n, bool):
        return shown(n) + "th"
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _tracks_table(tracks: list[dict]) -> str:
    if not tracks:
        return "<p>No face was found.</p>"
    head = "".join(
        f'<th class="num"><span class="swatch" style="background:{COLORS[e]}"></span>{e}</th>' for e in EMOTIONS
    )
    rows = []
    for track in tracks:
        frames = max(track["frames"], 1)
        shares = "".join(
            f'<td class="num">{escape(percent(track["top_emotion_frames"][e] / frames))}</td>' for e in EMOTIONS
        )
        rows.append(
            f'<tr><td>#{track["id"]}</td><td class="num">{track.get("seconds", 0):.1f} s</td>'
            f'<td class="num">{track["first_time_s"]:.1f}&ndash;{track["last_time_s"]:.1f} s</td>'
            f'<td class="num">{track["frames"]}</td><td><b>{escape(track["dominant_emotion"])}</b></td>{shares}</tr>'
        )
    return (
        '<table><tr><th>track</th><th class="num">on screen</th><th class="num">from&ndash;to</th>'
        f'<th class="num">analysed frames</th><th>dominant</th>{head}</tr>{"".join(rows)}</table>'
        '<p class="sub">Dominant: highest mean probability. Percentages: share of the track\'s analysed frames '
        "in which that emotion was on top.</p>"
    )


def _timeline_note(table: ResultTable) -> str:
    shown, total = len(plotted_tracks(table)), len(table.track_ids())
    if total <= MAX_PANELS:
        return ""
    return f'<p class="sub">The {shown} tracks seen longest of {total}; the table above lists every track.</p>'


def _faces(track: dict, moments: list[Moment]) -> str:
    on_top = track.get("top_emotion_frames", {})
    figures = []
    # an emotion never on top has a "strongest" moment all the same, at "angry 0.00": no face for it
    for moment in (m for m in moments if on_top.get(m.emotion, 1) > 0):
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
