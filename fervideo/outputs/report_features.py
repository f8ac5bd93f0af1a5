"""The report's table of the face mesh's numbers per track (the JSON's face_features) and its joined segments.

Every field goes through fervideo.outputs.fields: the JSON may have been edited by hand.
"""

from __future__ import annotations

from html import escape

from fervideo.outputs.fields import number, percent, section

DASH = "&ndash;"


def features_section(tracks: list[dict]) -> str:
    """The "Head pose, gaze and blinks" section, or "" when no track has features or segments to show."""
    tracks = [t for t in tracks if isinstance(t, dict)]
    with_features = any(isinstance(t.get("face_features"), dict) for t in tracks)
    joined = any(len(_segments(t)) > 1 for t in tracks)
    if not with_features and not joined:  # an old result, or --no-face-features on faces that never left
        return ""
    rows = "".join(_row(track) for track in tracks)
    return (
        "<h2>Head pose, gaze and blinks</h2>"
        '<table><tr><th>track</th><th class="num">yaw</th><th class="num">pitch</th><th class="num">roll</th>'
        '<th class="num">looking at the camera</th><th class="num">blinks</th><th class="num">blinks/min</th>'
        f"<th>on screen</th></tr>{rows}</table>"
        '<p class="sub">Head pose: mean &plusmn; standard deviation in degrees over the analysed frames where the '
        "face mesh found the face (yaw &gt; 0: turned towards the image's right; pitch &gt; 0: tilted up; roll &gt; "
        "0: leaning clockwise). Looking at the camera: share of those frames with the gaze within 10 degrees of "
        "the lens, the head turned less than 30 degrees and the eyes at least half open. Blinks: a dash where the "
        "analysed frames were more than 0.5 s apart (or one), too few to see a blink. On screen: more than one "
        "stretch where the face left the view and re-identification gave it its id again when it came back.</p>"
    )


def _row(track: dict) -> str:
    features = track.get("face_features")
    features = features if isinstance(features, dict) else {}
    pose = section(features, "head_pose_deg")
    cells = [_angle(section(pose, name)) for name in ("yaw", "pitch", "roll")]
    share = number(features.get("looking_at_camera_share"), least=0.0)
    cells.append(escape(percent(share)) if share is not None else DASH)
    blinks, rate = number(features.get("blinks"), least=0.0), number(features.get("blinks_per_minute"), least=0.0)
    cells += [f"{blinks:.0f}" if blinks is not None else DASH, f"{rate:.1f}" if rate is not None else DASH]
    numbers = "".join(f'<td class="num">{cell}</td>' for cell in cells)
    spans = ", ".join(f"{a:.1f}{DASH}{b:.1f} s" for a, b in _segments(track)) or DASH
    return f"<tr><td>#{escape(str(track.get('id', '?')))}</td>{numbers}<td>{spans}</td></tr>"


def _angle(stats: dict) -> str:
    mean, sd = number(stats.get("mean")), number(stats.get("sd"), least=0.0)
    if mean is None:
        return DASH
    return f"{mean:.1f}&deg;" + (f" &plusmn; {sd:.1f}" if sd is not None else "")


def _segments(track: dict) -> list[tuple[float, float]]:
    """The track's stretches on screen as (first, last) seconds; those with fields that are not numbers left out."""
    segments = track.get("segments")
    spans = []
    for segment in segments if isinstance(segments, list) else []:
        times = segment if isinstance(segment, dict) else {}
        first, last = number(times.get("first_time_s")), number(times.get("last_time_s"))
        if first is not None and last is not None:
            spans.append((first, last))
    return spans
