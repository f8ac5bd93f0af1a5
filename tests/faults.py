"""Damaged and odd inputs made on the spot, staged failures, and the in-process CLI runner for the hardening tests."""

from __future__ import annotations

import builtins
import errno
import faulthandler
import io
import os
import pickle
import signal
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fervideo.cli import main
from fervideo.engine.checkpoint import resolve

# --- running the CLI -------------------------------------------------------------------------------


LIMIT_S = 60  # per test; the slowest case here takes a few seconds


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that the CLI's `except Exception` cannot swallow it."""


@pytest.fixture
def no_hang():
    """Fail a test that runs past LIMIT_S; dump and exit if native code never returns to Python."""

    def expire(signum, frame):
        raise Hang(f"no result within {LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(LIMIT_S)
    faulthandler.dump_traceback_later(LIMIT_S + 30, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def run(capfd, *argv: object) -> tuple[int, str]:
    """Run the CLI in-process; returns the exit code and all it wrote to stderr, native code included."""
    capfd.readouterr()  # what the test's own setup printed is not the CLI's
    code = main([str(arg) for arg in argv])
    return code, capfd.readouterr().err


def assert_one_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert all(fragment in lines[0] for fragment in fragments), err


def names(folder: Path) -> list[str]:
    """Everything in an output folder, hidden temporaries included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- inputs --------------------------------------------------------------------------------------------


def write_video(path: Path, frames: int = 6, size: tuple[int, int] = (64, 48), fourcc: str = "mp4v", fps=10.0):
    """A small clip whose frames brighten one step each."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} at {size}"
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (40 + 20 * i) % 256, np.uint8))  # numpy 2 refuses to wrap
    writer.release()
    return path


def mp4_boxes(data: bytes) -> dict[str, tuple[int, int]]:
    """Top-level boxes of an mp4: type -> (offset, size)."""
    boxes, offset = {}, 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        boxes[kind.decode("latin-1")] = (offset, size)
        offset += size
    return boxes


def moov_first(data: bytes) -> bytes:
    """The same mp4 with its index (moov) moved before the frames (mdat), as a streaming-ready file has it.

    OpenCV writes moov last, so a cut file has no index at all; with moov first a cut file still decodes up
    to the cut. The chunk offsets in stco move by moov's size.
    """
    boxes = mp4_boxes(data)
    (moov_at, moov_size), (mdat_at, _) = boxes["moov"], boxes["mdat"]
    assert moov_at > mdat_at, "the index already comes first"
    moov = bytearray(data[moov_at : moov_at + moov_size])

    def shift(start: int, end: int) -> None:
        while start + 8 <= end:
            size, kind = struct.unpack(">I4s", moov[start : start + 8])
            if kind in (b"trak", b"mdia", b"minf", b"stbl"):
                shift(start + 8, start + size)
            elif kind == b"stco":
                (count,) = struct.unpack(">I", moov[start + 12 : start + 16])
                for at in range(start + 16, start + 16 + 4 * count, 4):
                    (offset,) = struct.unpack(">I", moov[at : at + 4])
                    moov[at : at + 4] = struct.pack(">I", offset + moov_size)
            start += size

    shift(8, moov_size)
    return data[:mdat_at] + bytes(moov) + data[mdat_at:moov_at] + data[moov_at + moov_size :]


def unreadable(name: str, folder: Path, media) -> Path:
    """Inputs with nothing to decode, named by what they are; media looks up ../shared/media."""
    video, photo = media("single_face.mp4").read_bytes(), media("single_face.jpg").read_bytes()
    png = cv2.imencode(".png", cv2.imread(str(media("single_face.jpg"))))[1].tobytes()
    contents = {
        "ftyp32.mp4": video[:32],  # the ftyp box and nothing else
        "ftyp100.mp4": video[:100],
        "half.mp4": video[: len(video) // 2],  # OpenCV wrote the index (moov) last: it is cut off
        "half.png": png[: len(png) // 2],
        "head.jpg": photo[:200],
    }
    path = folder / name
    if name in contents:
        path.write_bytes(contents[name])
    elif name == "folder.mp4":
        path.mkdir()
    else:
        os.mkfifo(path)  # opening a pipe with no writer blocks forever
    return path


def raw_mjpeg(path: Path, frames: int = 8) -> Path:
    """Concatenated JPEGs: a stream with no container, so no frame count and no frame rate of its own."""
    jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))[1].tobytes()
    path.write_bytes(jpeg * frames)
    return path


def avi_without_frame_count(path: Path, frames: int = 8) -> Path:
    """An MJPEG AVI whose headers (avih and strh) claim 0 frames."""
    data = bytearray(write_video(path, frames, fourcc="MJPG").read_bytes())
    avih, strh = data.find(b"avih"), data.find(b"strh")
    data[avih + 8 + 16 : avih + 8 + 20] = struct.pack("<I", 0)  # dwTotalFrames
    data[strh + 8 + 32 : strh + 8 + 36] = struct.pack("<I", 0)  # dwLength
    path.write_bytes(bytes(data))
    return path


class RatelessCapture:
    """A VideoCapture whose container reports neither a frame rate nor a frame count."""

    def __init__(self, *args) -> None:
        self._capture = cv2.VideoCapture(*args)

    def get(self, prop: int) -> float:
        return 0.0 if prop in (cv2.CAP_PROP_FPS, cv2.CAP_PROP_FRAME_COUNT) else self._capture.get(prop)

    def __getattr__(self, name: str):
        return getattr(self._capture, name)


class Cv2WithoutRate:
    """cv2 for fervideo.engine.source alone, so that the writers' own checks still see the real frame count."""

    VideoCapture = RatelessCapture

    def __getattr__(self, name: str):
        return getattr(cv2, name)


# --- checkpoints that are not ours -------------------------------------------------------------------


class Planted:
    """A pickle that would create a file when unpickled by plain pickle.load."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def text_file(path: Path, planted: Path) -> None:
    path.write_text("hello, this is not a checkpoint\n")  # 'h' is a pickle opcode: torch raised KeyError


def foreign_pickle(path: Path, planted: Path) -> None:
    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))


def planted_pickle(path: Path, planted: Path) -> None:
    path.write_bytes(pickle.dumps(Planted(planted)))


def planted_in_torch_zip(path: Path, planted: Path) -> None:
    torch.save({"format": "fervideo-checkpoint/1", "state_dict": Planted(planted)}, path)


def foreign_state_dict(path: Path, planted: Path) -> None:
    torch.save({"conv.weight": torch.zeros(2, 2)}, path)


def cut_checkpoint(path: Path, planted: Path) -> None:
    data = resolve("cnn").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def wrong_weights(path: Path, planted: Path) -> None:
    payload = torch.load(resolve("cnn"), weights_only=True)
    state = dict(payload["state_dict"])
    state[next(iter(state))] = torch.zeros(3)
    torch.save({**payload, "state_dict": state}, path)


def bad_preprocessing(path: Path, planted: Path) -> None:
    payload = torch.load(resolve("cnn"), weights_only=True)
    torch.save({**payload, "preprocess": {**payload["preprocess"], "input_size": 0}}, path)


NOT_A_CHECKPOINT = "not a fervideo checkpoint"
CHECKPOINTS = {  # writer -> what the one error line says
    text_file: NOT_A_CHECKPOINT,
    foreign_pickle: NOT_A_CHECKPOINT,
    planted_pickle: NOT_A_CHECKPOINT,
    planted_in_torch_zip: NOT_A_CHECKPOINT,
    foreign_state_dict: "no 'fervideo-checkpoint/1' marker",
    cut_checkpoint: NOT_A_CHECKPOINT,
    wrong_weights: "weights do not fit architecture 'cnn'",
    bad_preprocessing: "preprocessing",
}


# --- a full disk --------------------------------------------------------------------------------------


class FullDisk:
    """A file object that takes `room` more bytes, then fails like a full disk."""

    def __init__(self, file, room: int) -> None:
        self._file, self._room = file, room

    def write(self, data):
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._file.write(data)

    def __getattr__(self, name: str):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


def fill_disk(monkeypatch, folder: Path, suffix: str, room: int) -> list[str]:
    """Writes to files ending in suffix in folder fail with ENOSPC after room bytes; returns what was opened."""
    real_open, opened = io.open, []

    def open_on_full_disk(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if not isinstance(file, int) and "w" in mode:
            path = Path(os.fsdecode(file))
            if path.parent == folder and path.name.endswith(suffix):
                opened.append(path.name)
                return FullDisk(handle, room)
        return handle

    monkeypatch.setattr(builtins, "open", open_on_full_disk)
    monkeypatch.setattr(io, "open", open_on_full_disk)  # pathlib opens through io.open
    return opened


@contextmanager
def tmpfs(folder: Path, kib: int) -> Iterator[Path | None]:
    """folder as a tmpfs of kib KiB, a really full disk; None where mounting is not allowed (not root)."""
    folder.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(folder)]
    mount = subprocess.run(command, capture_output=True, timeout=30)
    if mount.returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)
