"""What the tests share: readers for what fervideo writes, and makers of small inputs (FER2013 folders, FER+ votes)."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from fervideo.cli import main
from fervideo.core.detections import Detections
from fervideo.core.labels import EMOTIONS
from fervideo.core.media import ffmpeg_exe
from fervideo.data.dataset import split_files
from fervideo.data.ferplus import VOTE_COLUMNS
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.outputs.sinks import CSV_HEADER, VideoSink


def read_csv(path: Path) -> list[dict]:
    """Rows of a result CSV, checking the header on the way."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == CSV_HEADER
        return list(reader)


def read_json(path: Path) -> dict:
    """A JSON summary."""
    return json.loads(Path(path).read_text())


def video_shape(path: Path) -> tuple[int, int, int]:
    """(frames, width, height) of a video, counting the frames OpenCV actually decodes."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"OpenCV cannot open {path}"
    frames = 0
    while capture.grab():
        frames += 1
    size = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    return frames, *size


def frames_with_face(rows: list[dict]) -> set[int]:
    """Source frame indices that have at least one face row."""
    return {int(r["frame"]) for r in rows if r["face_id"]}


def check_probabilities(rows: list[dict]) -> None:
    """Every face row's seven probabilities sum to 1 and its emotion is the top one."""
    for row in rows:
        if not row["face_id"]:
            assert all(row[k] == "" for k in CSV_HEADER[2:])
            continue
        probs = [float(row[name]) for name in EMOTIONS]
        assert abs(sum(probs) - 1) < 1e-4
        assert row["emotion"] == EMOTIONS[probs.index(max(probs))]
        assert abs(float(row["confidence"]) - max(probs)) < 1e-4


def face(label, index):
    """A 48x48 face whose grey level encodes its class and index, so the tests can tell them apart."""
    return np.full((48, 48), 10 * label + index, np.uint8)


def write_fer_csv(path, rows):
    """rows: (emotion, usage, image)"""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["emotion", "pixels", "Usage"])
        for emotion, usage, image in rows:
            writer.writerow([emotion, " ".join(str(v) for v in np.asarray(image).reshape(-1)), usage])
    return path


def small_fer_csv(path):
    """Seven training faces, two validation faces (happy, surprise), one test face (neutral)."""
    rows = [(label, "Training", face(label, 1)) for label in range(7)]
    rows += [(3, "PublicTest", face(3, 2)), (5, "PublicTest", face(5, 2))]
    rows += [(6, "PrivateTest", face(6, 3))]
    return write_fer_csv(path, rows)


def write_folder(root, per_class=None, seed=0):
    """Kaggle layout: ROOT/<split>/<class>/*.png|jpg; per_class maps split to images per class."""
    per_class = per_class or {"train": 3, "val": 1}
    rng = np.random.default_rng(seed)
    for split, count in per_class.items():
        for label, name in enumerate(EMOTIONS):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                image = np.clip(rng.normal(40 + 25 * label, 20, (48, 48)), 0, 255).astype(np.uint8)
                suffix = ".png" if i % 2 == 0 else ".jpg"
                assert cv2.imwrite(str(folder / f"{i}{suffix}"), image)
    return root


def run(capsys, *argv: str) -> tuple[int, str]:
    """Run the CLI in-process; returns exit code and stderr."""
    code = main(list(argv))
    return code, capsys.readouterr().err


def run_path(tmp_path, run):
    """Where a test run's best checkpoint goes, in a folder of its own (OUT.last.pt lands beside it)."""
    (tmp_path / run).mkdir()
    return tmp_path / run / "cnn.pt"


def train_args(data, out, *extra):
    """training.train's arguments for a tiny cnn run on data into out."""
    from training.train import parse_args

    fixed = ["--model", "cnn", "--device", "cpu", "--batch-size", "8", "--cache-dir", str(out.parent / "cache")]
    return parse_args([*fixed, "--data", str(data), "--out", str(out), *extra])


FER_COLUMN_CLASS = {"neutral": 6, "happiness": 3, "surprise": 5, "sadness": 4, "anger": 0, "disgust": 1, "fear": 2}


def write_votes(path, data, splits=("val",)):
    """FER+ votes for folder splits: each image's majority is its folder label, but one in three says neutral."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", *VOTE_COLUMNS])
        for i, name in enumerate(name for split in splits for name in split_files(data, split)):
            label = EMOTIONS.index(name.split("/")[1])
            winner = "neutral" if i % 3 == 0 else [k for k, v in FER_COLUMN_CLASS.items() if v == label][0]
            writer.writerow([name, *(8 if c == winner else 2 if c == "unknown" else 0 for c in VOTE_COLUMNS)])
    return path


def audio_seconds(path: Path) -> float:
    """Duration of the first audio stream, by decoding it (8 kHz mono 16-bit samples counted)."""
    command = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "8000"]
    proc = subprocess.run([*command, "-"], capture_output=True, check=True, timeout=60)
    return len(proc.stdout) / 2 / 8000


class Page(HTMLParser):
    """What a browser would need from a page: its text, its images and anything it would fetch."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self.tags: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                (self.images if tag == "img" else self.external).append(value)
                if tag == "img" and not value.startswith("data:"):
                    self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def jpegs(self) -> list[bytes]:
        prefix = "data:image/jpeg;base64,"
        return [base64.b64decode(src[len(prefix) :]) for src in self.images if src.startswith(prefix)]

    def pngs(self) -> list[bytes]:
        prefix = "data:image/png;base64,"
        return [base64.b64decode(src[len(prefix) :]) for src in self.images if src.startswith(prefix)]


def assert_same_tracks(json_tracks: list[dict], summary) -> None:
    """summarize()'s rows carry the JSON summary's numbers, up to the CSV's rounding."""
    assert summary.index.tolist() == [t["id"] for t in json_tracks]
    for track in json_tracks:
        row = summary.loc[track["id"]]
        for key in ("first_frame", "last_frame", "frames", "dominant_emotion"):
            assert row[key] == track[key], key
        for key in ("first_time_s", "last_time_s", "seconds"):
            assert row[key] == pytest.approx(track[key], abs=1e-3), key
        for name in EMOTIONS:
            assert row[f"mean_{name}"] == pytest.approx(track["mean_probs"][name], abs=5e-6)
            assert row[f"frames_{name}"] == track["top_emotion_frames"][name]


def faces(n, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 7))
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    xyxy = np.array([[10 + 50 * i, 20, 50 + 50 * i, 70] for i in range(n)], np.float32)
    return Detections(xyxy, rng.uniform(0.7, 1.0, n), tracker_id=np.arange(1, n + 1), probs=probs)


# --- a scripted detector and classifier: the pipeline with no models -------------------------------

FPS, FRAMES, SWITCH = 10.0, 30, 15  # the picture turns bright at frame SWITCH
LEFT, RIGHT = [4, 4, 28, 28], [36, 4, 60, 28]


class ScriptedDetector:
    """One face on the left throughout; a second on the right once the picture is bright."""

    def __call__(self, rgb: np.ndarray) -> Detections:
        boxes = [LEFT, RIGHT] if rgb.mean() > 128 else [LEFT]
        return Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9))

    def pair(self, first: np.ndarray, second: np.ndarray) -> tuple[Detections, Detections]:
        return self(first), self(second)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class ScriptedClassifier:
    """Happy on dark crops, sad on bright ones: a clean step from one emotion to another."""

    spec = SimpleNamespace(face_size=48)
    classes = EMOTIONS
    info = {"name": "scripted", "arch": "scripted", "sha256": "0" * 64, "input_size": 48}

    def predict(self, crops: np.ndarray, batch_size: int = 64, tta: bool = False) -> np.ndarray:
        probs = np.full((len(crops), len(EMOTIONS)), 0.05, np.float32)
        bright = crops.reshape(len(crops), -1).mean(axis=1) > 128 if len(crops) else np.zeros(0, bool)
        probs[~bright, EMOTIONS.index("happy")] = 0.7
        probs[bright, EMOTIONS.index("sad")] = 0.7
        return probs


def make_step_video(path):
    """FRAMES dark-then-bright frames at FPS: one face, then two, and a step from happy to sad."""
    with VideoSink(path, FPS, 64, 32) as sink:
        for i in range(FRAMES):
            sink.write(np.full((32, 64, 3), 40 if i < SWITCH else 220, np.uint8))
    return path


def scripted_analyzer(**options) -> Analyzer:
    """An Analyzer whose detector and classifier follow the script above."""
    return Analyzer(AnalyzeOptions(**options), ScriptedClassifier(), ScriptedDetector())


def scripted_result(folder: Path, **options) -> Path:
    """folder holding a scripted run (no models) of the step video, every other frame analysed: CSV and JSON."""
    from fervideo.engine.source import Sampling
    from fervideo.run.job import analyze_file

    video = make_step_video(folder / "step.mp4")
    analyze_file(video, folder, scripted_analyzer(sampling=Sampling(every=2), **options), write_video=False)
    return folder


def one_error_line(err: str) -> str:
    """stderr that is exactly one `error:` line, returned; anything else fails the test."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


# markup that runs a script wherever a value reaches a page unescaped (issue 33: a hand-edited result)
PAYLOAD = '"\'><img src=x onerror="window.pwned=1"><script>window.pwned=1</script><!--'


def poisoned(value: object) -> object:
    """value with every leaf (string, number, flag) replaced by PAYLOAD, its keys and nesting kept."""
    if isinstance(value, dict):
        return {k: poisoned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [poisoned(v) for v in value] or [PAYLOAD]
    return PAYLOAD
