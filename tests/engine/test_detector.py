"""The face detector: its schedule of the two BlazeFace models (scripted) and the real models on a real clip."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fervideo.core.detections import Detections, box_iou
from fervideo.core.errors import ModelError
from fervideo.engine.detector import DetectorConfig, FaceDetector

NEAR, FAR = (100.0, 100.0, 200.0, 200.0), (400.0, 50.0, 430.0, 80.0)
SHORT, FULL = 0, 1  # mediapipe's model_selection values


def scripted(detector: FaceDetector, short: list, full: list) -> list[int]:
    """Make the detector's models return fixed boxes; returns the log of which model ran."""
    calls: list[int] = []

    def run(graphs: dict, image: np.ndarray, selection: int | None = None) -> Detections:
        selection = next(iter(graphs)) if selection is None else selection
        calls.append(selection)
        boxes = short if selection == SHORT else full
        return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32))

    detector._run = run
    return calls


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return np.zeros((360, 640, 3), np.uint8)


def test_full_range_runs_on_every_nth_frame_when_short_range_sees_as_many_faces(frame):
    with FaceDetector(DetectorConfig(full_every=5)) as detector:
        calls = scripted(detector, short=[NEAR], full=[NEAR])
        found = [detector(frame) for _ in range(11)]
    assert calls.count(SHORT) == 11 and calls.count(FULL) == 3  # frames 0, 5 and 10
    assert all(len(faces) == 1 for faces in found)


def test_full_range_runs_every_frame_while_it_sees_a_face_short_range_misses(frame):
    with FaceDetector(DetectorConfig(full_every=5)) as detector:
        calls = scripted(detector, short=[NEAR], full=[NEAR, FAR])
        found = [detector(frame) for _ in range(6)]
    assert calls.count(FULL) == 6
    assert all(len(faces) == 2 for faces in found)  # the far face is in every frame, not every fifth


def test_full_range_runs_every_frame_while_short_range_sees_a_different_face(frame):
    with FaceDetector(DetectorConfig(full_every=5)) as detector:
        calls = scripted(detector, short=[NEAR], full=[FAR])  # as many faces each, but not the same ones
        found = [detector(frame) for _ in range(4)]
    assert calls.count(FULL) == 4
    assert all(len(faces) == 2 for faces in found)


def test_reset_starts_the_schedule_again(frame):
    with FaceDetector(DetectorConfig(full_every=5)) as detector:
        calls = scripted(detector, short=[NEAR], full=[NEAR])
        detector(frame), detector(frame)
        detector.reset()
        detector(frame)
    assert calls.count(FULL) == 2


def test_full_range_box_wins_where_both_models_see_a_face(frame):
    shifted = (104.0, 100.0, 204.0, 200.0)
    with FaceDetector() as detector:
        scripted(detector, short=[shifted, (300.0, 200.0, 350.0, 250.0)], full=[NEAR])
        faces = detector(frame)
    assert len(faces) == 2
    assert np.allclose(faces.xyxy[box_iou(faces.xyxy, np.array([NEAR], np.float32))[:, 0].argmax()], NEAR)


def test_one_model_strategies_ignore_the_schedule(frame):
    with FaceDetector(DetectorConfig(strategy="short")) as detector:
        calls = scripted(detector, short=[NEAR], full=[])
        for _ in range(3):
            detector(frame)
    assert calls == [SHORT] * 3


@pytest.mark.parametrize("full", [[NEAR], [NEAR, FAR], [FAR]])
@pytest.mark.parametrize("strategy", ["auto", "short"])
def test_pairs_of_frames_run_the_same_models_and_find_the_same_faces_as_single_frames(frame, full, strategy):
    found = {}
    for paired in (False, True):
        with FaceDetector(DetectorConfig(strategy=strategy, full_every=3)) as detector:
            calls = scripted(detector, short=[NEAR], full=full)
            if paired:
                faces = [f for _ in range(5) for f in detector.pair(frame, frame)] + [detector(frame)]
            else:
                faces = [detector(frame) for _ in range(11)]
            found[paired] = sorted(calls), [f.xyxy.tolist() for f in faces]
    assert found[True] == found[False]


def test_full_every_must_be_positive():
    with pytest.raises(ModelError, match="1 or more"):
        FaceDetector(DetectorConfig(full_every=0))


def test_real_models_find_the_face_in_every_frame_with_steady_boxes(media):
    capture = cv2.VideoCapture(str(media("single_face.mp4")))
    frames = [capture.read()[1] for _ in range(12)]
    with FaceDetector() as scheduled, FaceDetector(DetectorConfig(full_every=1)) as every:
        for image in frames:
            a, b = scheduled(image), every(image)
            assert len(a) == len(b) == 1
            side = b.xyxy[0, 2] - b.xyxy[0, 0]
            assert np.abs(a.xyxy[0] - b.xyxy[0]).max() < 0.05 * side  # short-range frames: about 2% off


def test_real_models_find_the_same_faces_in_pairs_of_frames(media):
    capture = cv2.VideoCapture(str(media("single_face.mp4")))
    frames = [capture.read()[1] for _ in range(12)]
    with FaceDetector() as detector:
        one_by_one = [detector(image) for image in frames]
        detector.reset()
        paired = [faces for i in range(0, 12, 2) for faces in detector.pair(frames[i], frames[i + 1])]
    for a, b in zip(one_by_one, paired, strict=True):
        assert len(a) == len(b) == 1
        assert np.allclose(a.xyxy, b.xyxy, atol=1e-3) and np.allclose(a.confidence, b.confidence, atol=1e-4)


def test_a_photo_with_no_face_is_searched_again_inside_a_border(frame):
    with FaceDetector(DetectorConfig(strategy="short")) as detector:
        seen = []

        def run(graphs, image, selection=None):
            height, width = image.shape[:2]
            seen.append(image.shape[:2])  # a face only once the picture has a margin around it
            boxes = [(width / 4, height / 4, 3 * width / 4, 3 * height / 4)] if len(seen) > 1 else []
            return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32))

        detector._run = run
        faces = detector.photo(frame)
    assert seen[0] == (360, 640) and seen[1] == (360 + 320, 640 + 320)  # a quarter of the longer side each way
    assert len(faces) == 1 and (faces.xyxy[0] >= 0).all() and faces.xyxy[0, 2] <= 640 and faces.xyxy[0, 3] <= 360


def test_real_models_find_a_tightly_cropped_face_only_with_the_border(media):
    image = cv2.imread(str(media("single_face.jpg")))
    with FaceDetector() as detector:
        ((x0, y0, x1, y1),) = detector.photo(image).xyxy.astype(int)
        inset = (x1 - x0) // 10
        tight = np.ascontiguousarray(image[y0 + inset : y1 - inset, x0 + inset : x1 - inset])
        detector.reset()
        assert len(detector(tight)) == 0  # no margin: BlazeFace sees no face in the photo as it is
        faces = detector.photo(tight)
    assert len(faces) == 1
    height, width = tight.shape[:2]
    assert (
        faces.xyxy[0, 2] - faces.xyxy[0, 0] > 0.8 * width and faces.xyxy[0, 2] <= width and faces.xyxy[0, 3] <= height
    )


@pytest.mark.parametrize(("across", "down"), [(2, 1), (2, 2), (3, 2)])
def test_a_wide_group_photo_is_searched_in_tiles(media, across, down):
    image = cv2.imread(str(media("multi_face.jpg")))
    group = np.tile(image, (down, across, 1))  # the same five people, across x down times over
    with FaceDetector() as detector:
        faces = detector.photo(group)
        detector.reset()
        whole = detector(group)
    assert len(faces) == 5 * across * down and len(whole) < len(faces)  # the whole picture alone misses some
    assert (box_iou(faces.xyxy, faces.xyxy) > 0.3).sum() == len(faces)  # each face once


def test_tiling_leaves_single_face_photos_as_they_were(media):
    image = cv2.imread(str(media("single_face.jpg")))
    with FaceDetector() as detector:
        assert len(detector.photo(image)) == 1


@pytest.mark.parametrize("degrees", [0, 20, -25])
def test_real_models_measure_the_roll_of_a_turned_face(media, degrees):
    bgr = cv2.imread(str(media("single_face.jpg")))
    with FaceDetector() as detector:
        level = float(detector.photo(bgr).roll[0])
        height, width = bgr.shape[:2]
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)  # counter-clockwise on screen
        turned = cv2.warpAffine(bgr, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
        faces = detector.photo(turned)
    assert abs(np.degrees(level)) < 10 and len(faces) == 1 and faces.roll is not None
    assert np.degrees(faces.roll[0] - level) == pytest.approx(-degrees, abs=6)
