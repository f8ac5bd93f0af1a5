"""The adaptive default against --every-frame on real clips: the same top emotion on at least 98% of face-frames."""

import pytest

from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.engine.source import VideoSource
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration
SHARED = ("single_face.mp4", "face_noface.mov", "noface_face.mov")


def top_emotions(analyzer: Analyzer, clip) -> dict[tuple[int, int], int]:
    """(frame, face id) -> index of the top emotion, for every face in every frame of clip."""
    found = {}
    with VideoSource(clip) as source:
        for result in analyzer.run(source):
            for face, probs in zip(result.faces.tracker_id.tolist(), result.faces.probs, strict=True):
                found[(result.index, face)] = int(probs.argmax())
    return found


def test_adaptive_reads_agree_with_every_frame_on_the_sample_and_the_shared_clips(media):
    same = total = read = carried = eyes = 0
    for clip in [SAMPLE, *(media(name) for name in SHARED)]:
        runs = {}
        for every_frame in (False, True):
            # smoothed as the CLI's CSV is: the agreement is about what a user reads
            with Analyzer(AnalyzeOptions(smooth=0.2, every_frame=every_frame)) as analyzer:
                runs[every_frame] = top_emotions(analyzer, clip)
                if not every_frame:
                    read += analyzer.work()["faces_read"]
                    carried += analyzer.work()["faces_carried"]
                    eyes += analyzer.work()["eyes_read"]
        keys = set(runs[False]) | set(runs[True])  # a face only one of them saw disagrees
        same += sum(runs[False].get(k) == runs[True].get(k) for k in keys)
        total += len(keys)
    assert total > 300 and same / total >= 0.98, f"{same} of {total} face-frames agree"
    assert carried > read  # and most faces were not read anew
    assert 0 < eyes < read  # some faces read for a change below the eyes kept their eyes' last reading
