"""The report's interactive viewer: the video above each track's timeline, synced both ways.

The video is referenced by a path relative to the page (the annotated video when written, else the source),
never inlined. A small hand-written script draws each track's probabilities and valence on a canvas, moves a
cursor with playback, seeks where a timeline is clicked or dragged, shows the current faces beside the
player, hides and shows tracks, and jumps to an episode. Without JavaScript the section stays hidden and the
rest of the report (tables, the timeline picture) reads as before. Nothing is fetched from the network.
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path
from urllib.parse import quote

import numpy as np

from fervideo.core.labels import EMOTIONS
from fervideo.core.layout import IMAGE_SUFFIXES
from fervideo.outputs.episodes import track_episodes, valence
from fervideo.outputs.face_features import COLUMN, blink_times
from fervideo.outputs.fields import number, section
from fervideo.outputs.results import ResultTable
from fervideo.outputs.timeline import COLORS

VALENCE_COLOR, AXIS_COLOR = "#444444", "#555555"
POSE_COLORS = {"yaw": "#e377c2", "pitch": "#2ca02c", "blink": "#000000"}  # none of them an emotion's

STYLE = """
#fv { display: none; } #fv.on { display: block; }
#fv .player { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
#fv video { width: 640px; max-width: 100%; background: #000; }
#fv-now { min-width: 220px; font-size: 14px; } #fv-now div { margin: 2px 0; }
#fv-tracks label { margin-right: 12px; font-size: 14px; }
#fv canvas { width: 100%; height: 126px; display: block; cursor: crosshair; border: 1px solid #eee; }
#fv canvas.pose { height: 166px; }
#fv-legend { font-size: 13px; margin: 4px 0; } #fv-legend span { margin-right: 10px; white-space: nowrap; }
#fv-legend i { display: inline-block; width: 14px; height: 3px; margin: 0 4px 3px 0; vertical-align: middle; }
#fv .lane h3 { font-size: 14px; margin: 10px 0 2px; }
#fv-episodes { font-size: 13px; columns: 2; } #fv-episodes button { font: inherit; cursor: pointer; }
"""

SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById('fv-data').textContent);
  const root = document.getElementById('fv'), video = document.getElementById('fv-video');
  root.classList.add('on');
  const unplayable = () => {  // mp4v (--codec mp4v, or no ffmpeg), a damaged file: said, not a black box
    const p = document.createElement('p');
    p.id = 'fv-unplayable'; p.className = 'warn';
    p.textContent = `This browser cannot play ${decodeURIComponent(video.getAttribute('src'))}: moved, or not ` +
      'H.264 (analyze without --codec mp4v, with ffmpeg). The timelines still seek and show the faces.';
    video.after(p);
  };
  if (video.error) unplayable(); else video.addEventListener('error', unplayable, {once: true});
  const now = document.getElementById('fv-now'), lanes = {};
  const duration = () => (isFinite(video.duration) && video.duration > 0 ? video.duration : data.duration);
  const clock = () => video.currentTime + data.start;  // the CSV's time: the annotated video begins at the range's
  const AXIS = 16;  // pixels under each lane's curves for its time axis
  function series(g, x, ts, ys, color, y) {  // one line, broken where a value is missing (null: no face mesh)
    g.strokeStyle = color; g.beginPath();
    let on = false;
    ts.forEach((t, i) => {
      if (ys[i] === null) { on = false; return; }
      on ? g.lineTo(x(t), y(ys[i])) : g.moveTo(x(t), y(ys[i])); on = true;
    });
    g.stroke();
  }
  function axis(g, w, h, x) {  // ticks at 1, 2 or 5 times a power of ten seconds, about 100 pixels apart
    const d = duration(), raw = d * 100 / Math.max(w, 1), p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * p).find(s => s >= raw);
    const k0 = Math.ceil(data.start / step - 1e-9), n = Math.floor((data.start + d) / step + 1e-9);
    g.strokeStyle = g.fillStyle = data.axis; g.lineWidth = 1; g.font = '11px sans-serif'; g.textBaseline = 'top';
    g.beginPath(); g.moveTo(0, h + 0.5); g.lineTo(w, h + 0.5);
    for (let k = k0; k <= n; k++) {
      const at = Math.round(x(k * step)) + 0.5;
      g.moveTo(at, h); g.lineTo(at, h + 4);
    }
    g.stroke();
    for (let k = k0; k <= n; k++) {
      const at = x(k * step);
      g.textAlign = at < 30 ? 'left' : at > w - 30 ? 'right' : 'center';
      g.fillText(`${+(k * step).toFixed(3)} s`, at, h + 4);
    }
  }
  function draw(id) {  // sizes read for every lane first (update): each read after a resize lays the page out again
    const lane = lanes[id], track = data.tracks[id], c = lane.canvas, g = c.getContext('2d');
    c.width = lane.w; c.height = lane.h;
    const w = c.width, h = c.height - AXIS, x = t => ((t - data.start) / duration()) * w;
    const top = h * (track.yaw ? 0.55 : 0.7), low = track.yaw ? h * 0.75 : h;  // probabilities, valence, pose
    g.clearRect(0, 0, w, c.height); g.lineWidth = 1.5;
    const prob = v => top * (1 - v);
    data.emotions.forEach((name, k) => series(g, x, track.t, track.p.map(p => p[k]), data.colors[k], prob));
    series(g, x, track.t, track.v, data.valence, v => top + (1 - v) / 2 * (low - top));  // in [-1, 1]
    if (track.yaw) {  // degrees, clipped to +-45: 0 (facing the camera) in the band's middle
      const y = v => low + (1 - Math.max(-1, Math.min(1, v / 45))) / 2 * (h - low);
      g.fillStyle = '#eee'; g.fillRect(0, Math.round(y(0)), w, 1);
      series(g, x, track.t, track.yaw, data.pose.yaw, y);
      series(g, x, track.t, track.pitch, data.pose.pitch, y);
      g.fillStyle = data.pose.blink; track.blinks.forEach(t => g.fillRect(Math.round(x(t)) - 1, low, 3, (h - low) / 3));
    }
    axis(g, w, h, x);
    g.fillStyle = '#d00'; g.fillRect(x(clock()) - 1, 0, 2, c.height);
  }
  function at(track, t) {  // the track's last analysed frame at or before t, if it is still on screen
    let lo = 0, hi = track.t.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (track.t[mid] <= t + 1e-6) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best >= 0 && t - track.t[best] <= data.gap ? best : -1;
  }
  function update() {
    const t = clock(), rows = [];
    let hidden = 0;  // faces on screen whose track is unticked: there is a face, only not shown
    for (const id of Object.keys(data.tracks)) {
      const track = data.tracks[id], i = at(track, t);
      if (i < 0) continue;
      if (lanes[id].div.hidden) { hidden++; continue; }
      const k = track.p[i].indexOf(Math.max(...track.p[i]));
      rows.push(`<div data-face="${id}"><b>${id}</b>: <span class="emotion">${data.emotions[k]}</span> ` +
        `${Math.round(track.p[i][k] * 100)}%, valence ${track.v[i].toFixed(2)}</div>`);
    }
    const note = hidden ? `<div class="hidden">${hidden} hidden track${hidden > 1 ? 's' : ''} on screen</div>` : '';
    const shown = rows.join('') || (note ? '' : '<div>no face</div>');
    now.innerHTML = `<div class="time">${t.toFixed(2)} s</div>` + shown + note;
    const ids = Object.keys(lanes);
    ids.forEach(id => { const c = lanes[id].canvas; lanes[id].w = c.clientWidth; lanes[id].h = c.clientHeight; });
    ids.forEach(draw);
  }
  for (const id of Object.keys(data.tracks)) {
    const div = document.createElement('div'), canvas = document.createElement('canvas');
    div.className = 'lane'; div.dataset.track = id;
    div.innerHTML = `<h3>track ${id}</h3>`; div.appendChild(canvas);
    if (data.tracks[id].yaw) canvas.className = 'pose';  // a taller lane: the head pose under the valence
    document.getElementById('fv-lanes').appendChild(div);
    lanes[id] = {div, canvas};
    const seek = e => { const r = canvas.getBoundingClientRect();
      video.currentTime = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) * duration(); update(); };
    canvas.addEventListener('mousedown', e => { seek(e); canvas.onmousemove = seek; });
    window.addEventListener('mouseup', () => { canvas.onmousemove = null; });
    const box = document.createElement('label');
    box.innerHTML = `<input type="checkbox" checked data-track="${id}"> track ${id}`;
    box.firstChild.addEventListener('change', e => { div.hidden = !e.target.checked; update(); });
    document.getElementById('fv-tracks').appendChild(box);
  }
  const list = document.getElementById('fv-episodes');
  data.episodes.forEach(e => {
    const li = document.createElement('li'), b = document.createElement('button');
    b.textContent = `track ${e.face_id}: ${e.emotion}, ${e.start_s.toFixed(2)}-${e.end_s.toFixed(2)} s`;
    b.dataset.start = e.start_s;
    b.addEventListener('click', () => { video.currentTime = Math.max(0, e.start_s - data.start); update(); });
    li.appendChild(b); list.appendChild(li);
  });
  ['timeupdate', 'seeked', 'loadedmetadata'].forEach(k => video.addEventListener(k, update));
  window.addEventListener('resize', update);
  update();
})();
"""


def played_video(summary: dict) -> tuple[Path | None, bool]:
    """The video the viewer plays: the annotated one (being written beside the page now, or there from an earlier
    run), else the source if it is still there; and whether it is the annotated one, which starts at the range's
    start (fervideo.outputs.sinks.PacedFrames), where the source starts at its own 0."""
    annotated, source = section(summary, "outputs").get("video"), section(summary, "input").get("absolute_path")
    annotated, source = (v if isinstance(v, str) and v and "\0" not in v else None for v in (annotated, source))
    if annotated:
        return Path(annotated), True
    return (Path(source), False) if source and Path(source).is_file() else (None, False)


def video_reference(summary: dict, page_dir: Path) -> str | None:
    """The video the viewer plays, relative to the page; None for a photo or no video at all."""
    video, _ = played_video(summary)
    if video is None or video.suffix.lower() in IMAGE_SUFFIXES:
        return None
    # a URL, not a path: '#' would start a fragment, '%' an escape, and 'clip:1.mp4' read as a scheme
    return quote(Path(os.path.relpath(video.resolve(), page_dir.resolve())).as_posix())


def viewer_data(summary: dict, table: ResultTable, start: float = 0.0) -> dict:
    """What the script draws: per track its times, probabilities and valence; the episodes; start: the time in the
    CSV at the played video's 0."""
    min_episode = number(section(summary, "episodes").get("min_seconds"), 0.5, least=0.0)
    tracks, episodes = {}, []
    frames, times = table.frame_times()
    steps = np.diff(times)
    gap = float(2.5 * np.median(steps)) if len(steps) else 1.0  # a face this long unseen is off screen
    for face in table.track_ids():
        rows = np.flatnonzero(table.face_id == face)
        t, p = table.time_s[rows], table.probs[rows]
        tracks[str(face)] = {
            "t": np.round(t, 4).tolist(),
            "p": np.round(p, 4).tolist(),
            "v": np.round(valence(p), 4).tolist(),
        }
        if table.features is not None and not np.isnan(table.features[rows]).all():  # old CSVs: no face mesh
            tracks[str(face)] |= _pose(t, table.features[rows])
        episodes += [e.row() for e in track_episodes(face, table.frame[rows], t, p, min_episode)]
    whole = number(section(summary, "input").get("duration"), float(times[-1]) if len(times) else 0.0, least=1e-6)
    duration = max(whole - start, 1e-6)  # until the video's own length is known
    colors = [COLORS[name] for name in EMOTIONS]
    return {
        "start": start,
        "duration": duration,
        "gap": gap,
        "emotions": list(EMOTIONS),
        "colors": colors,
        "valence": VALENCE_COLOR,
        "axis": AXIS_COLOR,
        "pose": POSE_COLORS,
        "tracks": tracks,
        "episodes": sorted(episodes, key=lambda e: (e["start_s"], e["face_id"])),
    }


def _pose(times: np.ndarray, features: np.ndarray) -> dict:
    """One track's yaw and pitch in degrees (None where the mesh found no face) and its blinks' start times."""
    known = ~np.isnan(features).any(axis=1)
    openness = features[known][:, [COLUMN["eye_open_left"], COLUMN["eye_open_right"]]].mean(axis=1)
    pose = {
        name: [None if np.isnan(v) else round(float(v), 1) for v in features[:, COLUMN[name]]]
        for name in ("yaw", "pitch")
    }
    return pose | {"blinks": [round(b, 4) for b in blink_times(times[known], openness)]}


def _legend(data: dict) -> str:
    """What each colour on the timelines is; the head pose's only where a track has it."""
    names = [*zip(data["emotions"], data["colors"], strict=True), ("valence", data["valence"])]
    if any("yaw" in track for track in data["tracks"].values()):
        names += [("yaw (head turn, +-45 degrees)", POSE_COLORS["yaw"]), ("pitch", POSE_COLORS["pitch"])]
        names += [("blink", POSE_COLORS["blink"])]
    items = "".join(
        f'<span data-series="{escape(name.split()[0])}"><i style="background:{color}"></i>{escape(name)}</span>'
        for name, color in names
    )
    return f'<div id="fv-legend">{items}</div>'


def viewer_html(summary: dict, table: ResultTable, page_dir: Path) -> str:
    """The viewer's section of the report, or "" when there is no video to play (a photo)."""
    video = video_reference(summary, page_dir)
    if video is None or not table.track_ids():
        return ""
    # the annotated video's 0 is the first analysed frame, the first of the range (--start)
    start = float(table.frame_times()[1][0]) if played_video(summary)[1] else 0.0
    # allow_nan=False: a browser's JSON.parse refuses NaN, and the viewer would vanish; no '<' ends the script early
    drawn = viewer_data(summary, table, start)
    data = json.dumps(drawn, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    return "\n".join(
        [
            f"<style>{STYLE}</style>",
            '<section id="fv"><h2>Viewer</h2><div class="player">',
            f'<video id="fv-video" controls preload="auto" src="{escape(video)}"></video>',
            '<div id="fv-now"></div></div>',
            '<p id="fv-tracks" class="sub">Click or drag on a timeline to seek; coloured lines: the seven '
            "probabilities, grey: valence (happy minus the strongest negative emotion). Show: </p>",
            _legend(drawn),
            '<div id="fv-lanes"></div><h3>Episodes</h3><ol id="fv-episodes"></ol></section>',
            f'<script type="application/json" id="fv-data">{data}</script>',
            f"<script>{SCRIPT}</script>",
        ]
    )
