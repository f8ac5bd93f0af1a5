"""`fervideo models` and `fervideo eval` through the command line."""

from __future__ import annotations

import json
import re

import pytest

from fervideo.cli import main
from fervideo.engine.models import DEFAULT_MODEL
from tests.helpers import run, write_folder


def test_models_table(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["model", "parameters", "input", "val"]
    cnn = next(line for line in lines if line.split()[:1] == ["cnn"])
    assert [word for word in cnn.split()[1:5] if word != "(default)"][:3] == ["61,451", "32x32x1", "38.9%"]
    assert sum("(default)" in line for line in lines) == 1
    assert next(line for line in lines if "(default)" in line).split()[0] == DEFAULT_MODEL


def test_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and [row["name"] for row in rows] == sorted(row["name"] for row in rows)
    assert [row["name"] for row in rows if row["default"]] == [DEFAULT_MODEL]
    cnn = next(row for row in rows if row["name"] == "cnn")
    assert cnn["parameters"] == 61451 and cnn["input"] == "32x32x1" and 0.38 < cnn["val_accuracy"] < 0.40
    for row in rows:
        assert row["parameters"] > 0 and re.fullmatch(r"\d+x\d+x[13]", row["input"])
        assert row["val_accuracy"] is None or 0 <= row["val_accuracy"] <= 1


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--data", "{tmp}/missing"], 1, "missing: no such data folder"),
        (["--data", "{tmp}/fer", "--split", "test"], 1, "no split 'test' under"),
        (["--data", "{tmp}/fer/val"], 1, "holds class folders itself, so give its parent"),
        (["--data", "{tmp}/fer", "--model", "resnet9000"], 1, "unknown model 'resnet9000'"),
        (["--data", "{tmp}/fer", "--model", "{tmp}/missing.pt"], 1, "no such checkpoint file"),
        (["--data", "{tmp}/fer", "--batch-size", "0"], 2, "--batch-size must be 1 or more"),
    ],
)
def test_eval_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, code, message):
    monkeypatch.setenv("FERVIDEO_CACHE", str(tmp_path / "cache"))
    write_folder(tmp_path / "fer", {"val": 1})
    got, err = run(capsys, "eval", *(arg.replace("{tmp}", str(tmp_path)) for arg in argv), "--device", "cpu")
    lines = err.strip().splitlines()
    assert got == code and len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], err


def test_eval_needs_data_and_a_known_split(capsys):
    for argv in (["eval"], ["eval", "--data", ".", "--split", "train"]):
        assert main(argv) == 2
    assert "--data" in capsys.readouterr().err


# --- smoothing, H.264 with sound, the report -----------------------------------------------------


def test_eval_photos_through_the_whole_pipeline(tmp_path, capsys, media):
    import cv2
    import numpy as np

    data = tmp_path / "photos"
    for name in ("happy", "neutral"):
        (data / name).mkdir(parents=True)
    (data / "happy" / "group.jpg").write_bytes(media("multi_face.jpg").read_bytes())
    (data / "happy" / "one.jpg").write_bytes(media("single_face.jpg").read_bytes())
    assert cv2.imwrite(str(data / "neutral" / "wall.png"), np.full((300, 300, 3), 90, np.uint8))
    (data / "neutral" / "broken.jpg").write_bytes(b"not a jpeg")
    argv = ["eval", "--photos", "--data", str(data), "--model", "fernet", "--device", "cpu"]
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"] == "photos" and result["n"] == 4 and result["faces_found"] == 0.5
    assert result["no_face"]["neutral"] == 2 and result["per_class"]["neutral"] == {
        "correct": 0,
        "total": 2,
        "accuracy": 0.0,
    }
    assert result["unreadable_files"] == [str(data / "neutral" / "broken.jpg")]
    assert sum(map(sum, result["confusion"])) == 2  # the confusion matrix holds the faces found
    assert result["per_class"]["happy"]["total"] == 2 and 0 <= result["ece"] <= 1
    assert result["per_class"]["fear"] == {"correct": 0, "total": 0, "accuracy": None}  # no photos: no figure
    assert result["accuracy"] == result["per_class"]["happy"]["correct"] / 4
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "faces found in 50.0% of the photos" in captured.out and "no face" in captured.out
    assert "Fear: - (0/0)" in captured.out
    # the broken file is named: it is not a photo without a face
    assert "warning: 1 of them could not be read at all" in captured.err and "broken.jpg" in captured.err


def test_eval_photos_and_labels_exclude_each_other(capsys):
    code = main(["eval", "--data", ".", "--photos", "--labels", "x.csv"])
    assert code == 2 and "not allowed with" in capsys.readouterr().err


def test_eval_names_what_it_leaves_out(tmp_path, capsys):
    data = write_folder(tmp_path / "fer", {"val": 1})
    (data / "val" / "Angry").mkdir()  # class folders are lower case: this one counted nowhere, silently
    (data / "val" / "happy" / "face.gif").write_bytes(sorted((data / "val" / "happy").iterdir())[0].read_bytes())
    argv = ["eval", "--data", str(data), "--model", "fernet", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n"] == 7  # stdout stays one JSON object
    assert "warning: 2 left out, not counted: Angry, happy/face.gif" in captured.err
