"""fervideo.load_results and fervideo.summarize: the CSV back as a DataFrame, and the JSON's track numbers from it."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

import fervideo
from fervideo.core.errors import InputError
from fervideo.core.labels import EMOTIONS
from fervideo.outputs.results import PandasMissing, read_table, track_summaries
from fervideo.outputs.sinks import CSV_HEADER
from tests.helpers import assert_same_tracks, read_json, scripted_result


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """A scripted run (no models): two tracks, every other frame analysed, smoothed."""
    return scripted_result(tmp_path_factory.mktemp("result"), smooth=0.3)


def test_load_results_dtypes(result):
    df = fervideo.load_results(result / "step.csv")
    assert df["frame"].dtype == "int64" and df["time_s"].dtype == "float64"
    assert str(df["face_id"].dtype) == "Int64" and str(df["x"].dtype) == "Int64"
    assert isinstance(df["emotion"].dtype, pd.CategoricalDtype) and list(df["emotion"].cat.categories) == list(EMOTIONS)
    assert all(df[name].dtype == "float64" for name in EMOTIONS)
    assert df["frame"].tolist() == sorted(df["frame"].tolist()) and df["face_id"].notna().all()


def test_summarize_matches_the_json(result):
    summary = fervideo.summarize(fervideo.load_results(result / "step.csv"))
    tracks = read_json(result / "step.json")["tracks"]
    assert len(tracks) == 2
    assert_same_tracks(tracks, summary)
    assert summary.loc[1, "seconds"] == pytest.approx(3.0, abs=1e-3)  # 30 frames at 10 fps, in view throughout
    df = fervideo.load_results(result / "step.csv")
    for shuffled in (df.iloc[::-1], df.sort_values("happy")):  # rows in a caller's own order: the same tracks
        pd.testing.assert_frame_equal(fervideo.summarize(shuffled), summary)


def test_rows_without_a_face(tmp_path):
    csv = tmp_path / "empty.csv"
    empty = "," * (len(CSV_HEADER) - 2)  # as analyze writes a frame without a face: every other cell empty
    csv.write_text(",".join(CSV_HEADER) + "\n0,0.0000" + empty + "\n1,0.0400" + empty + "\n")
    df = fervideo.load_results(csv)
    assert df["face_id"].isna().all() and len(df) == 2
    assert fervideo.summarize(df).empty
    assert track_summaries(read_table(csv)) == []


def test_not_a_result(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a fervideo result CSV"):
        fervideo.load_results(other)
    with pytest.raises(InputError, match="no such file"):
        fervideo.load_results(tmp_path / "missing.csv")


def test_without_pandas_the_error_says_what_to_install(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas") as info:
        fervideo.load_results(result / "step.csv")
    assert isinstance(info.value, PandasMissing)


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
@pytest.mark.parametrize("column", ["happy", "time_s", "w", "confidence"])
def test_a_non_finite_value_is_refused_naming_its_line_and_column(result, tmp_path, value, column):
    lines = (result / "step.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[CSV_HEADER.index(column)] = value
    lines[3] = ",".join(cells)
    damaged = tmp_path / "step.csv"
    damaged.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=f"line 4: {column} is {value!r}, not a finite number") as info:
        read_table(damaged)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="not a finite number"):
        fervideo.load_results(damaged)


def test_the_face_mesh_columns_are_typed_whatever_rows_hold_them(result):
    df = fervideo.load_results(result / "step.csv")
    assert str(df["looking_at_camera"].dtype) == "Int64"  # 0/1, empty without a mesh: int64 or float64 before
    assert all(df[name].dtype == "float64" for name in ("yaw", "gaze_pitch", "mouth_open", "valence"))


def test_summarize_without_tracks_has_the_same_column_types(result, tmp_path):
    csv = tmp_path / "empty.csv"
    empty = "," * (len(CSV_HEADER) - 2)
    csv.write_text(",".join(CSV_HEADER) + "\n0,0.0000" + empty + "\n")
    some, none = (fervideo.summarize(fervideo.load_results(p)) for p in (result / "step.csv", csv))
    assert none.empty and none.dtypes.to_dict() == some.dtypes.to_dict()
    assert none.index.dtype == some.index.dtype


def test_summarize_takes_pandas_own_reading_and_refuses_what_is_not_a_result(result):
    from fervideo.core.errors import UsageError

    expected = fervideo.summarize(fervideo.load_results(result / "step.csv"))
    pd.testing.assert_frame_equal(fervideo.summarize(pd.read_csv(result / "step.csv")), expected, check_dtype=False)
    with pytest.raises(UsageError, match="is a list"):
        fervideo.summarize([1, 2])
    with pytest.raises(UsageError, match="this lacks x$"):
        fervideo.summarize(fervideo.load_results(result / "step.csv").drop(columns=["x"]))


def test_load_results_reads_a_header_with_spaces_after_its_commas(result, tmp_path):
    spaced = tmp_path / "spaced.csv"
    text = (result / "step.csv").read_text().splitlines()
    spaced.write_text("\n".join([text[0].replace(",", ", "), *text[1:]]) + "\n")
    pd.testing.assert_frame_equal(fervideo.load_results(spaced), fervideo.load_results(result / "step.csv"))
