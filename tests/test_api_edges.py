"""The library API at its edges: what a Python caller passes that the command line's parser never would, and
the names a caller needs to catch fervideo's errors and build its options from `import fervideo` alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import fervideo
from fervideo.core.errors import UsageError
from fervideo.engine.detector import DetectorConfig
from fervideo.engine.options import AnalyzeOptions
from fervideo.engine.tracker import TrackerConfig
from tests.conftest import SAMPLE

BAD = {
    # truthy strings ran the feature: tta="no" ran TTA, face_features="no" meshed every face
    "tta 'no'": (dict(tta="no"), "tta is True or False"),
    "face_features 'no'": (dict(face_features="no"), "face_features is True or False"),
    "align None": (dict(align=None), "align is True or False"),
    "every_frame 1": (dict(every_frame=1), "every_frame is True or False"),
    # the CLI refuses --smooth inf; the library wrote "seconds": Infinity, which is not JSON
    "smooth inf": (dict(smooth=float("inf")), "smooth must be 0 or more"),
    # a TypeError or AttributeError when the models load, naming nothing fervideo's
    "model None": (dict(model=None), "model is a registered name"),
    "model 3": (dict(model=3), "model is a registered name"),
    "detector dict": (dict(detector={"min_score": 0.5}), "detector must be a fervideo DetectorConfig"),
    "tracker dict": (dict(tracker={"reid": False}), "tracker must be a fervideo TrackerConfig"),
    # the CLI refuses --min-face-score 2; the library found no face, silently
    "min_score 2": (dict(detector=DetectorConfig(min_score=2)), "min_score must be between 0 and 1"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_option_is_one_usage_error(name):
    fields, message = BAD[name]
    with pytest.raises(UsageError, match=message):
        AnalyzeOptions(**fields)


def test_numpy_numbers_are_taken_as_plain_ones():
    """A batch size or smoothing from numpy (a config, np.arange) is a number: refused with "not 4" before."""
    options = AnalyzeOptions(batch_size=np.int64(4), smooth=np.float32(0.25), tta=np.bool_(True))
    assert (options.batch_size, options.smooth, options.tta) == (4, 0.25, True)
    assert type(options.batch_size) is int and type(options.smooth) is float and type(options.tta) is bool
    json.dumps(options.to_dict())  # the JSON summary takes them


def test_a_checkpoint_path_is_kept_as_text():
    """A Path for the model is a checkpoint: the JSON summary's options (and model name) could not hold a Path."""
    options = AnalyzeOptions(model=Path("runs/best.onnx"))
    assert options.model == "runs/best.onnx"
    json.dumps(options.to_dict())


def test_good_configs_still_pass():
    options = AnalyzeOptions(detector=DetectorConfig(min_score=0.5), tracker=TrackerConfig(reid=False))
    assert options.detector.min_score == 0.5 and not options.tracker.reid


def test_the_errors_and_option_types_are_public():
    """The messages say "sampling=Sampling(...)" and the docs name UsageError and InputError: both reachable."""
    from fervideo.core import errors
    from fervideo.engine.source import Sampling

    assert fervideo.Sampling is Sampling
    assert fervideo.DetectorConfig is DetectorConfig and fervideo.TrackerConfig is TrackerConfig
    for name in ("FervideoError", "InputError", "UsageError", "ModelError", "OutputError"):
        assert getattr(fervideo, name) is getattr(errors, name)
        assert name in fervideo.__all__
    with pytest.raises(fervideo.UsageError, match="sampling=Sampling"):
        fervideo.AnalyzeOptions.overridden(None, {"end": 1})
    assert fervideo.AnalyzeOptions(sampling=fervideo.Sampling(end=1.5)).sampling.end == 1.5


def test_analyze_video_checks_its_call_before_the_first_frame(tmp_path):
    import fervideo

    with pytest.raises(fervideo.UsageError, match="bogus"):
        fervideo.analyze_video(str(SAMPLE), bogus=1)  # no next(): the call itself refuses
    with pytest.raises(fervideo.InputError, match="no such file"):
        fervideo.analyze_video(str(tmp_path / "missing.mp4"))
    with pytest.raises(fervideo.UsageError, match="path"):
        fervideo.analyze_video(3)
    first = next(fervideo.analyze_video(SAMPLE, options=None, sampling=fervideo.Sampling(end=0.2)))
    assert first.index == 0


def test_analyze_image_refuses_a_closed_or_foreign_analyzer():
    import fervideo

    closed = fervideo.Analyzer()
    closed.close()
    for analyzer in (closed, "x"):
        with pytest.raises(fervideo.UsageError, match="open fervideo Analyzer"):
            fervideo.analyze_image(np.zeros((64, 64, 3), np.uint8), analyzer=analyzer)
