"""Reading a result CSV back: as numpy arrays (for the report) or as a pandas DataFrame (for analysts)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fervideo.core.detections import FACE_FEATURES
from fervideo.core.errors import InputError, UsageError
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.sinks import BASE_HEADER, CSV_HEADER
from fervideo.outputs.summary import MIN_EPISODE, Rows, TrackStats

if TYPE_CHECKING:
    import pandas as pd


class PandasMissing(ImportError):
    """The DataFrame API needs pandas, an optional dependency."""


@dataclass
class ResultTable:
    """The rows of a result CSV as arrays; rows of analysed frames without a face have face_id 0."""

    frame: np.ndarray  # (R,) int64, source frame index
    time_s: np.ndarray  # (R,) float64
    face_id: np.ndarray  # (R,) int64, 0 where no face
    emotion: np.ndarray  # (R,) int64 index into EMOTIONS, -1 where no face
    xyxy: np.ndarray  # (R, 4) float64 face box in source pixels, zeros where no face
    probs: np.ndarray  # (R, 7) float64, zeros where no face
    # (R, 9) float64 FACE_FEATURES, NaN where a cell is empty; None: a CSV from before the face mesh's columns
    features: np.ndarray | None = None

    def track_ids(self) -> list[int]:
        """Ids of the tracks in the table, ascending."""
        return sorted(int(t) for t in np.unique(self.face_id) if t > 0)

    def frame_times(self) -> tuple[np.ndarray, np.ndarray]:
        """Each analysed frame once, in order: (frame indices, times)."""
        frames, first = np.unique(self.frame, return_index=True)
        return frames, self.time_s[first]


def read_table(path: str | Path) -> ResultTable:
    """A result CSV written by fervideo analyze, as arrays."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a spreadsheet's byte-order mark
            reader = csv.reader(f)
            header = [name.strip() for name in next(reader, None) or []]
            # without the face mesh's columns, or valence too: written before they were added
            if header not in (CSV_HEADER, BASE_HEADER, BASE_HEADER[:-1]):
                raise InputError(f"{path}: not a fervideo result CSV ({_header_problem(header)})")
            numbered = [(reader.line_num, row) for row in reader if row]  # a blank line holds no row
            lines, rows = [n for n, _ in numbered], [row for _, row in numbered]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read this CSV: {exc}") from exc
    col = {name: i for i, name in enumerate(CSV_HEADER)}
    _check_cells(path, rows, lines, col, len(header))
    has_face = np.array([bool(r[col["face_id"]]) for r in rows], bool)
    index = {name: k for k, name in enumerate(EMOTIONS)}
    try:
        probs = np.array([[float(r[col[e]] or 0) for e in EMOTIONS] for r in rows], np.float64).reshape(-1, 7)
        table = ResultTable(
            frame=np.array([int(r[col["frame"]]) for r in rows], np.int64),
            time_s=np.array([float(r[col["time_s"]]) for r in rows], np.float64),
            face_id=np.array([int(r[col["face_id"]] or 0) for r in rows], np.int64),
            emotion=np.array(
                [index[r[col["emotion"]]] if f else -1 for r, f in zip(rows, has_face, strict=True)], np.int64
            ),
            xyxy=_xyxy(np.array([[float(r[col[k]] or 0) for k in "xywh"] for r in rows], np.float64)),
            probs=probs,
            features=_features(path, rows, lines) if header == CSV_HEADER else None,
        )
    except (ValueError, KeyError, IndexError) as exc:
        raise InputError(f"{path}: a row does not have the values fervideo writes ({exc})") from exc
    return _in_time_order(path, table, np.array(lines, np.int64))


def _in_time_order(path: Path, table: ResultTable, lines: np.ndarray) -> ResultTable:
    """The rows by frame, then face: a CSV sorted by hand otherwise reads as tracks and episodes running backwards."""
    order = np.lexsort((table.face_id, table.frame))
    frame, face = table.frame[order], table.face_id[order]
    twice = np.flatnonzero((frame[1:] == frame[:-1]) & (face[1:] == face[:-1]) & (face[1:] > 0))
    if len(twice):  # a row pasted twice: the face's time on screen and frames would count it twice
        first, second = sorted(int(lines[order[k]]) for k in (twice[0], twice[0] + 1))
        raise InputError(
            f"{path}: lines {first} and {second}: face {face[twice[0]]} twice in frame {frame[twice[0]]}; "
            "fervideo writes one row per face per frame: delete one of them"
        )
    features = None if table.features is None else table.features[order]
    fields = (table.frame, table.time_s, table.face_id, table.emotion, table.xyxy, table.probs)
    return ResultTable(*(column[order] for column in fields), features=features)


NUMBERS = ("time_s", "face_score", "x", "y", "w", "h", *EMOTIONS, "confidence", "valence")
# frame indices and face ids beyond this are no video's: numpy's int64 and OpenCV's seeks would overflow on them
MAX_INDEX = 2**31 - 1
# the range of each number column that fervideo writes; finite values far beyond it overflow to infinity in sums,
# plots and milliseconds (a time of 1e308 s): 31 years of video, and pixels of no picture
RANGES = {"time_s": (0.0, 1e9), "valence": (-1.0, 1.0)}
RANGES |= {name: (0.0, 1.0) for name in ("face_score", *EMOTIONS, "confidence")}
RANGES |= {name: (-1e9, 1e9) for name in "xywh"}


def _check_cells(path: Path, rows: list[list[str]], lines: list[int], col: dict[str, int], width: int) -> None:
    """Refuse, naming its line and column, a cell fervideo never writes, before any of it is converted."""
    for line, row in zip(lines, rows, strict=True):
        # a NaN or an infinity, which float() accepts, would reach the report as invalid JSON; a frame or face id
        # beyond int64 stops numpy with an OverflowError that names nothing
        if len(row) != width:  # a row cut short (a copy stopped mid-line) read its missing numbers as NaN
            raise InputError(f"{path}: line {line}: {len(row)} values where its header has {width}; cut short?")
        for name in NUMBERS:
            cell = row[col[name]] if col[name] < len(row) else ""
            try:
                finite = not cell or math.isfinite(float(cell))
            except ValueError:
                raise InputError(f"{path}: line {line}: {name} is {cell!r}, not a number") from None
            if not finite:
                raise InputError(
                    f"{path}: line {line}: {name} is {cell!r}, not a finite number; fervideo writes finite numbers "
                    "only: fix or delete that row"
                )
            low, high = RANGES[name]
            if cell and not low <= float(cell) <= high:
                raise InputError(f"{path}: line {line}: {name} is {cell!r}, outside {low:g} to {high:g}")
        _check_index(path, line, "frame", row[col["frame"]], 0)
        if row[col["face_id"]]:
            _check_index(path, line, "face_id", row[col["face_id"]], 1)
            if row[col["emotion"]] not in EMOTIONS:
                raise InputError(
                    f"{path}: line {line}: emotion is {row[col['emotion']]!r}, not one of {', '.join(EMOTIONS)}"
                )


def _features(path: Path, rows: list[list[str]], lines: list[int]) -> np.ndarray:
    """The face mesh's columns as (R, 9) floats, NaN for an empty cell (no mesh, or --no-face-features)."""
    start, out = len(BASE_HEADER), np.full((len(rows), len(FACE_FEATURES)), np.nan)
    for i, (line, row) in enumerate(zip(lines, rows, strict=True)):
        for k, cell in enumerate(row[start : start + len(FACE_FEATURES)]):
            try:
                value = float(cell) if cell else math.nan
            except ValueError:
                raise InputError(f"{path}: line {line}: {FACE_FEATURES[k]} is {cell!r}, not a number") from None
            if math.isinf(value) or (cell and math.isnan(value)):  # NaN or inf would reach the page as invalid JSON
                raise InputError(f"{path}: line {line}: {FACE_FEATURES[k]} is {cell!r}, not a finite number")
            out[i, k] = value
    return out


def _check_index(path: Path, line: int, name: str, cell: str, low: int) -> None:
    """A frame index or a face id: a whole number from low to MAX_INDEX, written as fervideo writes it."""
    text = cell.strip()
    if not (text.isascii() and text.isdigit()):
        raise InputError(f"{path}: line {line}: {name} is {cell!r}, not a whole number")
    if not low <= int(text) <= MAX_INDEX:
        raise InputError(f"{path}: line {line}: {name} is {cell!r}, outside {low}-{MAX_INDEX}")


def _header_problem(header: list[str]) -> str:
    """What is wrong with a CSV's header, compared with the one fervideo writes."""
    if not header:
        return "it is empty"
    for i, (got, want) in enumerate(zip(header, CSV_HEADER, strict=False)):
        if got != want:
            return f"column {i + 1} is {got!r} where fervideo writes {want!r}"
    return f"it has {len(header)} columns where fervideo writes {len(CSV_HEADER)}"


def _xyxy(xywh: np.ndarray) -> np.ndarray:
    xywh = xywh.reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def track_summaries(table: ResultTable, min_episode: float = MIN_EPISODE) -> list[dict]:
    """Per-track summaries with the same fields and numbers as the JSON summary's "tracks"."""
    if not table.track_ids():
        return []
    frames, times = table.frame_times()
    # an analysed frame counts until the next one; the last as long as the one before it
    steps = np.diff(times, append=times[-1] + (times[-1] - times[-2] if len(times) > 1 else 0.0))
    step_of = dict(zip(frames.tolist(), steps.tolist(), strict=True))
    tracks = []
    for track in table.track_ids():
        rows = np.flatnonzero(table.face_id == track)
        stats = TrackStats(  # the JSON's own record, so both give the same fields the same way
            track,
            int(table.frame[rows[0]]),
            int(table.frame[rows[-1]]),
            float(table.time_s[rows[0]]),
            float(table.time_s[rows[-1]]),
            frames=len(rows),
            seconds=sum(step_of[f] for f in table.frame[rows].tolist()),
            prob_sum=table.probs[rows].sum(axis=0),
            top_counts=np.bincount(table.emotion[rows], minlength=len(EMOTIONS)),
            series=Rows(2 + len(EMOTIONS), np.column_stack([table.frame[rows], table.time_s[rows], table.probs[rows]])),
            # the face mesh's numbers, for the track's face_features, as the JSON summary has them
            features=Rows(1 + len(FACE_FEATURES))
            if table.features is None
            else Rows(1 + len(FACE_FEATURES), np.column_stack([table.time_s[rows], table.features[rows]])),
        )
        tracks.append(stats.to_dict(min_episode=min_episode))
    return tracks


def _pandas() -> object:
    try:
        import pandas
    except ImportError:
        raise PandasMissing("fervideo.load_results needs pandas: pip install pandas") from None
    return pandas


def load_results(path: str | Path) -> pd.DataFrame:
    """A result CSV as a DataFrame: ints for frame and box, nullable Int64 face_id, categorical emotion."""
    pd = _pandas()
    read_table(path)  # the same checks and messages as everywhere else, before pandas sees the file
    floats = ("time_s", "face_score", "confidence", *EMOTIONS, "valence", *FACE_FEATURES[:-1])
    dtypes = {name: "float64" for name in floats} | {"frame": "int64", "emotion": "string"}
    dtypes |= {name: "Int64" for name in ("face_id", "x", "y", "w", "h", "looking_at_camera")}  # empty: no face
    with open(path, encoding="utf-8-sig") as f:  # the columns this file has: older results lack the mesh's
        present = {name.strip() for name in f.readline().split(",")}
    # skipinitialspace: read_table takes "frame, time_s", which pandas would read as a column " time_s"
    df = pd.read_csv(path, dtype={k: v for k, v in dtypes.items() if k in present}, skipinitialspace=True)
    df["emotion"] = pd.Categorical(df["emotion"], categories=list(EMOTIONS))
    return df


SUMMARY_INPUT = ("frame", "time_s", "face_id", "emotion", "x", "y", "w", "h", *EMOTIONS)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """One row per track (index: face_id) with the JSON summary's numbers, from load_results' DataFrame.

    Columns: first/last frame and time, frames, seconds on screen, dominant_emotion, mean_<emotion>
    (mean probability) and frames_<emotion> (analysed frames in which that emotion was on top).
    """
    pd = _pandas()
    missing = [] if not isinstance(df, pd.DataFrame) else [c for c in SUMMARY_INPUT if c not in df.columns]
    if not isinstance(df, pd.DataFrame) or missing:
        what = f"lacks {', '.join(missing)}" if missing else f"is a {type(df).__name__}"
        raise UsageError(f"summarize takes a result's rows as fervideo.load_results(csv) gives them; this {what}")
    df = df.sort_values("frame", kind="stable")  # a caller's own order (by a probability, reversed) is not time's
    if not isinstance(df["emotion"].dtype, pd.CategoricalDtype):  # pd.read_csv's own reading: names as text
        df = df.assign(emotion=pd.Categorical(df["emotion"], categories=list(EMOTIONS)))
    faces = df["face_id"].notna().to_numpy()
    table = ResultTable(
        frame=df["frame"].to_numpy(np.int64),
        time_s=df["time_s"].to_numpy(np.float64),
        face_id=df["face_id"].fillna(0).to_numpy(np.int64),
        emotion=np.where(faces, df["emotion"].cat.codes.to_numpy(np.int64), -1),
        xyxy=_xyxy(df[list("xywh")].fillna(0).to_numpy(np.float64)),
        probs=df[list(EMOTIONS)].fillna(0.0).to_numpy(np.float64),
    )
    rows = []
    for track in track_summaries(table):
        row = {k: v for k, v in track.items() if k not in ("mean_probs", "top_emotion_frames")}
        row |= {f"mean_{name}": p for name, p in track["mean_probs"].items()}
        row |= {f"frames_{name}": n for name, n in track["top_emotion_frames"].items()}
        rows.append(row)
    columns = ["id", "first_frame", "last_frame", "first_time_s", "last_time_s", "frames", "seconds"]
    columns += ["dominant_emotion", *(f"mean_{e}" for e in EMOTIONS), *(f"frames_{e}" for e in EMOTIONS)]
    types = {name: "int64" for name in ("id", "first_frame", "last_frame", "frames", *columns[-len(EMOTIONS) :])}
    types |= {name: "float64" for name in columns if name.endswith("_s") or name.startswith("mean_")}
    # as typed without tracks as with them: an empty frame's columns would otherwise all be object
    out = pd.DataFrame(rows, columns=columns).astype(types | {"seconds": "float64", "dominant_emotion": str})
    return out.set_index("id").rename_axis("face_id")
