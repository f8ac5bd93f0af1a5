"""fervideo.engine.pipeline: what the Analyzer holds back stays bounded however long the video, faces or none."""

from __future__ import annotations

import numpy as np
import pytest

from fervideo.core.detections import Detections
from fervideo.engine import pipeline
from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.engine.source import VideoSource
from fervideo.outputs.sinks import VideoSink
from tests.helpers import ScriptedClassifier, ScriptedDetector

FRAMES = 1500


class NoFaces(ScriptedDetector):
    """Never finds a face: nothing ever fills a classifier batch."""

    def __call__(self, rgb: np.ndarray) -> Detections:
        return Detections.empty()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A long 16x16 clip: its frames are far too small for the analyser's byte bound to release them."""
    path = tmp_path_factory.mktemp("clip") / "tiny.mp4"
    with VideoSink(path, 30.0, 16, 16) as sink:
        for i in range(FRAMES):
            sink.write(np.full((16, 16, 3), i % 256, np.uint8))
    return path


@pytest.mark.parametrize("detector", [NoFaces, ScriptedDetector], ids=["no faces", "one face, huge batches"])
@pytest.mark.parametrize("decode_all", [True, False])
def test_results_come_out_while_the_video_is_read_not_all_at_its_end(tiny, detector, decode_all, monkeypatch):
    ahead = []
    monkeypatch.setattr(pipeline, "PENDING_FRAMES", 100, raising=False)  # small, so that a short clip shows the bound
    analyzer = Analyzer(AnalyzeOptions(batch_size=10_000), ScriptedClassifier(), detector())
    with VideoSource(tiny) as source:
        for done, result in enumerate(analyzer.run(source, decode_all=decode_all), 1):
            ahead.append(source.frames_read - done)  # frames read, not yet released: held in the analyser
            assert result.index == done - 1
    assert len(ahead) == FRAMES
    # read ahead by the prefetch thread (256 frames at most) plus those pending release: not the whole clip
    assert max(ahead) <= 256 + 100 + 4, max(ahead)
