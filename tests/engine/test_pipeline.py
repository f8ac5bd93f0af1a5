"""fervideo.engine.pipeline: smoothing and paired detection in the Analyzer, with a scripted detector and classifier."""

from __future__ import annotations

import numpy as np
import pytest

from fervideo.core.errors import InputError, UsageError
from fervideo.core.labels import EMOTIONS
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.engine.schedule import MAX_CARRY_S, SEARCH_EVERY
from fervideo.engine.smoothing import EmaSmoother
from fervideo.engine.source import Sampling, VideoSource
from tests.helpers import (
    FRAMES,
    SWITCH,
    ScriptedClassifier,
    ScriptedDetector,
    make_step_video,
    scripted_analyzer,
)


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

    from fervideo.engine.runtime import use_cores

    before = torch.get_num_threads()
    try:
        assert use_cores(4) == 3 and torch.get_num_threads() == 3
        assert use_cores(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


class CountingDetector(ScriptedDetector):
    """The scripted detector, counting frames searched alone and in pairs."""

    def __init__(self) -> None:
        self.alone = self.paired = 0

    def __call__(self, rgb: np.ndarray):
        self.alone += 1
        return super().__call__(rgb)

    def pair(self, first: np.ndarray, second: np.ndarray):
        self.paired += 2
        self.alone -= 2  # the two calls below are the pair's, not frames searched alone
        return super().pair(first, second)


@pytest.mark.parametrize(("every", "paired"), [(1, 30), (2, 0), (3, 0)])
def test_consecutive_sampled_frames_are_searched_in_pairs_and_results_stay_in_order(video, every, paired):
    detector = CountingDetector()
    options = AnalyzeOptions(sampling=Sampling(every=every), batch_size=4, every_frame=True)
    analyzer = Analyzer(options, ScriptedClassifier(), detector)
    with VideoSource(video) as source:
        results = list(analyzer.run(source))
    assert [r.index for r in results] == list(range(FRAMES))
    assert [r.index for r in results if r.analysed] == list(range(0, FRAMES, every))
    assert detector.paired == paired and detector.alone == len(range(0, FRAMES, every)) - paired
    assert all(len(r.faces) == (2 if r.index >= SWITCH else 1) for r in results if r.analysed)


def test_the_adaptive_default_searches_fewer_frames_and_still_reports_every_face(video):
    """A still scripted face: searched while it settles, then one frame in SEARCH_EVERY; every frame keeps it, and
    its emotion follows the picture as the exhaustive mode's does."""
    runs = {}
    for every_frame in (False, True):
        detector = CountingDetector()
        analyzer = Analyzer(AnalyzeOptions(batch_size=4, every_frame=every_frame), ScriptedClassifier(), detector)
        with VideoSource(video) as source:
            runs[every_frame] = [
                (len(r.faces), r.faces.probs[:1].argmax(axis=1).tolist()) for r in analyzer.run(source)
            ]
        searched = detector.alone + detector.paired
        assert analyzer.work()["searches"] == searched and analyzer.work()["searches_skipped"] == FRAMES - searched
    assert analyzer.work()["mode"] == "every-frame" and searched == FRAMES
    adaptive = runs[False]
    assert all(count == 1 for count, _ in adaptive[:SWITCH])
    assert all(count == 2 for count, _ in adaptive[SWITCH + SEARCH_EVERY + 1 :])  # the newcomer waits a search
    assert [label for _, label in adaptive] == [label for _, label in runs[True]]


class CountingClassifier(ScriptedClassifier):
    """The scripted classifier, counting the faces it read."""

    def __init__(self) -> None:
        self.read = 0

    def predict(self, crops: np.ndarray, batch_size: int = 64, tta: bool = False) -> np.ndarray:
        self.read += len(crops)
        return super().predict(crops, batch_size, tta)


@pytest.mark.parametrize("every_frame", [False, True])
def test_live_frames_read_a_still_face_again_only_after_max_carry(every_frame):
    """analyze_frame as live calls it: an unchanged face keeps its reading until MAX_CARRY_S have passed (by the
    times given, or the clock's without them); --every-frame reads it in every frame."""
    classifier = CountingClassifier()
    analyzer = Analyzer(AnalyzeOptions(every_frame=every_frame, face_features=False), classifier, ScriptedDetector())
    tracker, image = analyzer.new_tracker(), np.full((120, 160, 3), 60, np.uint8)
    times = [0.0, 0.04, 0.08, 0.12, 0.16, 0.16 + MAX_CARRY_S]
    found = [analyzer.analyze_frame(image, tracker, t) for t in times]
    assert all(len(f) == 1 and f.probs[0].argmax() == EMOTIONS.index("happy") for f in found[1:])  # confirmed
    assert classifier.read == (len(times) - 1 if every_frame else 2)  # its first sighting only confirms it
    assert len(analyzer.analyze_frame(image, tracker)) == 1  # no time given: the clock's


def test_one_analyzer_runs_one_source_at_a_time_and_none_once_closed(video):
    # two runs interleaved on one Analyzer shared its per-source state: up to 0.93 off in probability, silently
    analyzer = scripted_analyzer()
    with VideoSource(video) as first, VideoSource(video) as second:
        running = analyzer.run(first)
        next(running)
        with pytest.raises(UsageError, match="in a run"):
            next(analyzer.run(second))
        with pytest.raises(UsageError, match="in a run"):
            analyzer.analyze_frame(np.zeros((64, 64, 3), np.uint8), analyzer.new_tracker())
        running.close()
        assert len(list(analyzer.run(second))) == FRAMES  # free again once that run is closed
    analyzer.close()
    with pytest.raises(UsageError, match="closed"), VideoSource(video) as source:
        next(analyzer.run(source))


@pytest.mark.parametrize("image", [None, np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.float32)])
def test_analyze_frame_takes_only_a_bgr_frame(image):
    analyzer = scripted_analyzer()
    with pytest.raises(InputError, match=r"\(H, W, 3\) uint8 BGR"):
        analyzer.analyze_frame(image, analyzer.new_tracker())
