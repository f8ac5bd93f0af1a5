"""--draw landmarks,pose: the face mesh's points and the head's axes on the annotated video (issue 35)."""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest

from fervideo.cli.draw import draw_layers
from fervideo.core.detections import FACE_FEATURES, Detections
from fervideo.outputs.draw import annotate, head_axes

BOX = (100, 80, 220, 200)
NOSE = (150, 150)


def face(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, mesh: bool = True) -> Detections:
    """One face with features and (optionally) 468 mesh points spread over its box."""
    features = np.zeros((1, len(FACE_FEATURES)), np.float32)
    features[0, :3] = yaw, pitch, roll
    rng = np.random.default_rng(0)
    points = rng.uniform([BOX[0] + 10, BOX[1] + 10], [BOX[2] - 10, BOX[3] - 10], (1, 468, 2)).astype(np.float32)
    points[0, 1] = NOSE  # the nose tip, where the pose axes start
    return Detections(
        np.array([BOX], np.float32),
        np.array([0.9]),
        tracker_id=np.array([1]),
        probs=np.eye(7, dtype=np.float32)[[3]],
        features=features,
        landmarks=points if mesh else None,
    )


def changed(draw: tuple[str, ...], faces: Detections | None = None) -> np.ndarray:
    """Which pixels the layers add to the default drawing, (H, W) bool."""
    faces = faces if faces is not None else face()
    plain = annotate(np.zeros((360, 480, 3), np.uint8), faces)
    drawn = annotate(np.zeros((360, 480, 3), np.uint8), faces, draw=draw)
    return (plain != drawn).any(axis=2)


def test_the_default_draws_no_layer():
    plain = annotate(np.zeros((360, 480, 3), np.uint8), face())
    bare = face()
    bare.features, bare.landmarks = None, None
    assert np.array_equal(plain, annotate(np.zeros((360, 480, 3), np.uint8), bare))  # as before issue 35
    assert not changed(()).any()


def test_landmarks_dot_the_face_and_nothing_else():
    diff = changed(("landmarks",))
    x0, y0, x1, y1 = BOX
    assert diff[y0:y1, x0:x1].sum() > 300  # hundreds of dots inside the box
    assert not diff[:y0].any() and not diff[y1:].any()
    assert not changed(("landmarks",), face(mesh=False)).any()  # no mesh (--no-face-features): nothing


def test_the_pose_axes_start_at_the_nose_and_follow_the_head():
    diff = changed(("pose",))
    reach = (BOX[2] - BOX[0]) // 2 + 3  # the axes are half the box's width long
    near = diff[NOSE[1] - reach : NOSE[1] + reach, NOSE[0] - reach : NOSE[0] + reach].sum()
    assert near > 100 and near == diff.sum() and diff[NOSE[1] - 1 : NOSE[1] + 2, NOSE[0] - 1 : NOSE[0] + 2].all()
    turned = changed(("pose",), face(yaw=40.0))
    assert not np.array_equal(diff, turned)
    unknown = face()
    unknown.features[:] = np.nan  # the mesh found no face
    assert not changed(("pose",), unknown).any()


def test_head_axes_follow_pose_signs():
    right, up, forward = head_axes(0.0, 0.0, 0.0)
    np.testing.assert_allclose([right, up, forward], [[1, 0], [0, -1], [0, 0]], atol=1e-9)
    assert head_axes(np.radians(30), 0, 0)[2][0] > 0.4  # yaw > 0: forward towards the image's right
    assert head_axes(0, np.radians(30), 0)[2][1] < -0.4  # pitch > 0: up
    assert head_axes(0, 0, np.radians(30))[0][1] > 0.4  # roll > 0: clockwise, the right axis goes down


def test_the_option_parses():
    assert draw_layers("pose, landmarks,pose") == ("pose", "landmarks")
    for bad in ("", "mesh", "pose,x"):
        with pytest.raises(argparse.ArgumentTypeError):
            draw_layers(bad)


@pytest.mark.integration
def test_draw_reaches_the_annotated_video(tmp_path):
    from fervideo.cli import main
    from tests.conftest import SAMPLE
    from tests.helpers import read_csv, read_json

    frames = {}
    for name, extra in (("plain", []), ("drawn", ["--draw", "landmarks,pose"])):
        out = tmp_path / name
        argv = ["analyze", str(SAMPLE), "-o", str(out), "--end", "0.5", "--codec", "mp4v", "-q", *extra]
        assert main(argv) == 0
        capture = cv2.VideoCapture(str(out / "demo.annotated.mp4"))
        ok, frames[name] = capture.read()
        capture.release()
        assert ok
    assert read_json(tmp_path / "drawn" / "demo.json")["output_options"]["draw"] == ["landmarks", "pose"]
    first = next(r for r in read_csv(tmp_path / "plain" / "demo.csv") if r["frame"] == "0" and r["face_id"])
    x, y, w, h = (int(first[k]) for k in "xywh")
    diff = np.abs(frames["plain"].astype(int) - frames["drawn"].astype(int)).max(axis=2) > 40
    near = diff[max(y - h // 2, 0) : y + 3 * h // 2, max(x - w // 2, 0) : x + 3 * w // 2].sum()
    assert near > 200 and near > 0.95 * diff.sum()  # on and around the face, hardly anywhere else
