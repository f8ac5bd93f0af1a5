"""OUT_DIR/index.html for `batch --report`: one row per input, sortable, and one chart comparing the inputs."""

from __future__ import annotations

import base64
import json
import os
from html import escape
from pathlib import Path

import cv2

from fervideo.core.atomic import write_bytes
from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import output_paths
from fervideo.outputs.timeline import COLORS
from fervideo.run.batch.jobs import Job

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; } th, td { padding: 4px 8px; border-bottom: 1px solid #e4e4e0; text-align: left; }
th { cursor: pointer; user-select: none; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { width: 96px; border-radius: 4px; } .bar { display: flex; width: 420px; height: 14px; }
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
    counts = dict.fromkeys(EMOTIONS, 0)
    for track in summary.get("tracks", []):
        for name in EMOTIONS:
            counts[name] += track.get("top_emotion_frames", {}).get(name, 0)
    total = sum(counts.values())
    return {name: (c / total if total else 0.0) for name, c in counts.items()}


def thumbnail(summary: dict) -> str:
    """A small JPEG (data URI) of the annotated output in the middle of its first track; "" when unreadable."""
    path, tracks = summary.get("outputs", {}).get("video"), summary.get("tracks", [])
    if not path or not Path(path).is_file():
        return ""
    capture = cv2.VideoCapture(path)
    if tracks:
        capture.set(cv2.CAP_PROP_POS_MSEC, 500 * (tracks[0]["first_time_s"] + tracks[0]["last_time_s"]))
    ok, frame = capture.read()
    capture.release()
    if not ok:
        return ""
    frame = cv2.resize(frame, (160, max(1, round(160 * frame.shape[0] / frame.shape[1]))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return f"data:image/jpeg;base64,{base64.b64encode(jpeg.tobytes()).decode()}" if ok else ""


def _bar(share: dict[str, float]) -> str:
    cells = "".join(
        f'<i style="width:{100 * share[n]:.1f}%;background:{COLORS[n]}" title="{n} {share[n]:.0%}"></i>'
        for n in EMOTIONS
        if share[n] > 0
    )
    return f'<div class="bar">{cells}</div>'


def _row(job: Job, out_dir: Path) -> str:
    row = job.row
    try:
        summary = json.loads(output_paths(job.input, job.out_dir, job.stem)["json"].read_text())
    except (OSError, ValueError):
        summary = {}
    summary = summary if row.get("status") != "failed" else {}
    report = summary.get("outputs", {}).get("report")
    name = escape(str(job.input))
    link = f'<a href="{escape(Path(os.path.relpath(report, out_dir)).as_posix())}">{name}</a>' if report else name
    share = shares(summary)
    image = thumbnail(summary)
    picture = f'<img alt="" src="{image}">' if image else ""
    duration = summary.get("input", {}).get("duration", "")
    return "".join(
        [
            "<tr>",
            f"<td>{picture}</td>",
            f"<td>{link}</td><td>{escape(str(row.get('status', '')))}</td>",
            f'<td class="num">{duration}</td><td class="num">{escape(str(row.get("faces", "")))}</td>',
            f"<td>{escape(str(row.get('dominant_emotion', '')))}</td>",
            *(f'<td class="num" data-sort="{share[n]:.4f}">{share[n]:.0%}</td>' for n in EMOTIONS),
            f"<td>{_bar(share) if summary else ''}</td></tr>",
        ]
    )


def write_overview(out_dir: Path, jobs: list[Job]) -> Path:
    """Write OUT_DIR/index.html from the jobs' index rows and their JSON summaries; returns its path."""
    head = "".join(f"<th>{h}</th>" for h in ["", "input", "status", "duration (s)", "faces", "dominant", *EMOTIONS])
    legend = "".join(f'<span><i style="background:{COLORS[n]}"></i> {n}</span>' for n in EMOTIONS)
    rows = "\n".join(_row(job, out_dir) for job in jobs if job.row)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>fervideo batch</title>'
        f"<style>{STYLE}</style></head><body><h1>fervideo batch: {sum(bool(j.row) for j in jobs)} inputs</h1>"
        "<p>Click a column to sort. Shares: of the faces' analysed frames, the emotion on top; the chart compares "
        f'the inputs.</p><p class="legend">{legend}</p>'
        f'<table id="inputs"><thead><tr>{head}<th>chart</th></tr></thead><tbody>\n{rows}\n</tbody></table>'
        f"<script>{SORT}</script></body></html>\n"
    )
    path = out_dir / "index.html"
    write_bytes(path, page.encode())
    return path
