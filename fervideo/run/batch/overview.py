"""OUT_DIR/index.html for `batch --report`: one row per input, sortable, and one chart comparing the inputs."""

from __future__ import annotations

import base64
import json
import os
from html import escape
from pathlib import Path
from urllib.parse import quote

import cv2

from fervideo.core.atomic import write_bytes
from fervideo.core.errors import InputError
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import output_paths
from fervideo.core.paths import local, printable_name
from fervideo.outputs.fields import number, percent, section, shown
from fervideo.outputs.timeline import COLORS
from fervideo.run.batch.jobs import OVERVIEW_TITLE, Job

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; } th, td { padding: 4px 6px; border-bottom: 1px solid #e4e4e0; text-align: left; }
th { cursor: pointer; user-select: none; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { width: 240px; overflow-wrap: anywhere; }  /* the widest page fits a 1400 px window, a long path wrapped */
img { width: 96px; border-radius: 4px; } .bar { display: flex; width: 180px; height: 14px; }
.legend span { display: inline-block; margin-right: 10px; }
.legend i, .bar i { display: inline-block; width: 10px; height: 10px; }
"""
SORT = """
document.querySelectorAll('#inputs th').forEach((th, col) => th.addEventListener('click', () => {
  const body = document.querySelector('#inputs tbody'), rows = [...body.rows];
  const down = th.dataset.dir !== 'down'; th.dataset.dir = down ? 'down' : 'up';
  const key = r => { const v = r.cells[col].dataset.sort ?? r.cells[col].textContent; return isNaN(v) ? v : +v; };
  rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (down ? -1 : 1));
  rows.forEach(r => body.appendChild(r));
}));
"""


def shares(summary: dict) -> dict[str, float]:
    """Share of the faces' analysed frames in which each emotion was on top, over all tracks."""
    counts = dict.fromkeys(EMOTIONS, 0.0)
    for track in _tracks(summary):
        for name in EMOTIONS:  # a hand-edited JSON may hold anything here: only counts count
            counts[name] += number(section(track, "top_emotion_frames").get(name), 0.0, least=0.0)
    total = sum(counts.values())
    return {name: (c / total if total else 0.0) for name, c in counts.items()}


def _tracks(summary: dict) -> list[dict]:
    tracks = summary.get("tracks")
    return [t for t in tracks if isinstance(t, dict)] if isinstance(tracks, list) else []


def thumbnail(summary: dict, video: Path) -> str:
    """A small JPEG (data URI) of the annotated video in the middle of its first track; "" when unreadable."""
    if not section(summary, "outputs").get("video") or not video.is_file():  # the JSON says whether one was written
        return ""
    try:
        capture = cv2.VideoCapture(local(video))
    except InputError:  # a name OpenCV cannot be given: no thumbnail
        return ""
    tracks = _tracks(summary)
    middle = [number(tracks[0].get(k)) for k in ("first_time_s", "last_time_s")] if tracks else [None]
    if None not in middle:
        capture.set(cv2.CAP_PROP_POS_MSEC, 500 * sum(middle))
    ok, frame = capture.read()
    capture.release()
    if not ok:
        return ""
    frame = cv2.resize(frame, (160, max(1, round(160 * frame.shape[0] / frame.shape[1]))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return f"data:image/jpeg;base64,{base64.b64encode(jpeg.tobytes()).decode()}" if ok else ""


def _bar(share: dict[str, float]) -> str:
    cells = "".join(
        f'<i style="width:{100 * share[n]:.1f}%;background:{COLORS[n]}" title="{n} {escape(percent(share[n]))}"></i>'
        for n in EMOTIONS
        if share[n] > 0
    )
    return f'<div class="bar">{cells}</div>'


def _row(job: Job, out_dir: Path) -> str:
    row, paths = job.row, output_paths(job.input, job.out_dir, job.stem)
    try:
        summary = json.loads(paths["json"].read_text()) if row.get("status") != "failed" else {}
    except (OSError, ValueError, RecursionError):  # RecursionError: a JSON nested too deep
        summary = {}
    summary = summary if isinstance(summary, dict) else {}
    name = escape(printable_name(job.input))  # a name that is not UTF-8 would stop the page's encoding
    # the report's own name, not the JSON's say; as a URL: '#' would start a fragment, ':' read as a scheme
    href = quote(os.fsencode(Path(os.path.relpath(paths["report"], out_dir)).as_posix()))  # the name's own bytes
    link = f'<a href="{escape(href)}">{name}</a>' if summary and paths["report"].is_file() else name
    share = shares(summary)
    image = thumbnail(summary, paths["video"])
    picture = f'<img alt="" src="{image}">' if image else ""
    duration = escape(shown(section(summary, "input").get("duration")))
    faces = len(_tracks(summary)) if summary else ""  # the people tracked, not the detections (72 for one face)
    return "".join(
        [
            "<tr>",
            f"<td>{picture}</td>",
            f'<td class="name">{link}</td><td>{escape(_status(row))}</td>',
            f'<td class="num">{duration}</td><td class="num">{faces}</td>',
            f"<td>{escape(shown(row.get('dominant_emotion')))}</td>",
            *(f'<td class="num" data-sort="{share[n]:.4f}">{escape(percent(share[n]))}</td>' for n in EMOTIONS),
            f'<td class="chart">{_bar(share) if summary else ""}</td></tr>',
        ]
    )


def _status(row: dict) -> str:
    """The index's status, with the reason where the input failed (index.csv's error column)."""
    status = shown(row.get("status"))
    return f"{status}: {shown(row.get('error'))}" if status == "failed" and row.get("error") else status


def write_overview(out_dir: Path, jobs: list[Job]) -> Path:
    """Write OUT_DIR/index.html from the jobs' index rows and their JSON summaries; returns its path."""
    head = "".join(f"<th>{h}</th>" for h in ["", "input", "status", "duration (s)", "faces", "dominant", *EMOTIONS])
    legend = "".join(f'<span><i style="background:{COLORS[n]}"></i> {n}</span>' for n in EMOTIONS)
    rows = "\n".join(_row(job, out_dir) for job in jobs if job.row)
    count = sum(bool(j.row) for j in jobs)
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{OVERVIEW_TITLE}'
        f"<style>{STYLE}</style></head><body><h1>fervideo batch: {count} input{'s' * (count != 1)}</h1>"
        "<p>Click a column to sort. Shares: of the faces' analysed frames, the emotion on top; the chart compares "
        f'the inputs.</p><p class="legend">{legend}</p>'
        f'<table id="inputs"><thead><tr>{head}<th>chart</th></tr></thead><tbody>\n{rows}\n</tbody></table>'
        f"<script>{SORT}</script></body></html>\n"
    )
    path = out_dir / "index.html"
    write_bytes(path, page.encode())
    return path
