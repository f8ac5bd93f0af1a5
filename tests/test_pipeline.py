"""fervideo.pipeline: temporal smoothing in the Analyzer, with a scripted detector and classifier (no models)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from fervideo.detections import Detections
from fervideo.errors import UsageError
from fervideo.labels import EMOTIONS
from fervideo.pipeline import AnalyzeOptions, Analyzer
from fervideo.sinks import VideoSink
from fervideo.smoothing import EmaSmoother
from fervideo.source import Sampling, VideoSource

FPS, FRAMES, SWITCH = 10.0, 30, 15  # the picture turns bright at frame SWITCH
LEFT, RIGHT = [4, 4, 28, 28], [36, 4, 60, 28]


class ScriptedDetector:
    """One face on the left throughout; a second on the right once the picture is bright."""

    def __call__(self, rgb: np.ndarray) -> Detections:
        boxes = [LEFT, RIGHT] if rgb.mean() > 128 else [LEFT]
        return Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9))

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
        bright = crops.reshape(len(crops), -1).mean(axis=1) > 128
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


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_step_video(tmp_path_factory.mktemp("clip") / "step.mp4")


def analyse(video, **options):
    analyzer = scripted_analyzer(**options)
    with VideoSource(video) as source:
        results = list(analyzer.run(source))
    return [(r.index, r.time_s, r.faces.tracker_id.copy(), r.faces.probs.copy()) for r in results if r.analysed]


def test_smoothing_is_the_ema_of_the_raw_probabilities(video):
    raw = analyse(video, batch_size=4)  # small batches: smoothing state must carry across flushes
    smooth = analyse(video, batch_size=4, smooth=0.5)
    reference = EmaSmoother(0.5)
    for (index, time_s, ids, probs), (index2, _, ids2, smoothed) in zip(raw, smooth, strict=True):
        assert index == index2 and ids.tolist() == ids2.tolist()
        np.testing.assert_allclose(smoothed, reference(ids, probs, time_s), atol=1e-6)
        np.testing.assert_allclose(smoothed.sum(axis=1), 1, atol=1e-5)
    left_after_step = [probs[0] for index, _, _, probs in smooth if index == SWITCH]
    assert left_after_step[0].argmax() == EMOTIONS.index("happy")  # raw has switched; smoothed has not yet
    assert smooth[-1][3][0].argmax() == EMOTIONS.index("sad")  # it follows 1.5 s (3 time constants) later


def test_a_new_track_starts_fresh(video):
    smooth = analyse(video, smooth=5.0)
    first = next((ids, probs) for _, _, ids, probs in smooth if len(ids) == 2)
    assert first[0].tolist() == [1, 2]
    assert first[1][1].argmax() == EMOTIONS.index("sad") and first[1][1].max() == pytest.approx(0.7)
    assert first[1][0].argmax() == EMOTIONS.index("happy")  # track 1 still remembers, 5 s time constant


def test_sampling_keeps_the_time_constant_in_seconds(video):
    every = analyse(video, smooth=0.5)
    sparse = analyse(video, smooth=0.5, sampling=Sampling(every=3))
    dense = {index: probs for index, _, _, probs in every}
    # same time constant: before the step nothing changes; later the two agree within the sampling error
    for index, _, _, probs in sparse:
        tolerance = 1e-6 if index < SWITCH else 0.2
        np.testing.assert_allclose(probs[0], dense[index][0], atol=tolerance)


def test_negative_smoothing_is_a_usage_error():
    with pytest.raises(UsageError, match="--smooth"):
        scripted_analyzer(smooth=-1)


def test_use_cores_leaves_one_core_to_the_detector_thread():
    import torch

    from fervideo.pipeline import use_cores

    before = torch.get_num_threads()
    try:
        assert use_cores(4) == 3 and torch.get_num_threads() == 3
        assert use_cores(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
