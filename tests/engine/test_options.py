"""A library caller's options are checked as they are built: one UsageError naming the value, never a bare
TypeError or AttributeError mid-run, and never a value accepted and then ignored (fp64 ran as fp32)."""

from __future__ import annotations

import numpy as np
import pytest

import fervideo
from fervideo.core.errors import UsageError
from fervideo.engine.options import AnalyzeOptions
from fervideo.engine.source import Sampling
from tests.conftest import SAMPLE

BAD = {
    "batch size 2.5": (lambda: AnalyzeOptions(batch_size=2.5), "batch-size must be a whole number"),
    "batch size '32'": (lambda: AnalyzeOptions(batch_size="32"), "batch-size must be a whole number"),
    "smooth None": (lambda: AnalyzeOptions(smooth=None), "smooth must be 0 or more"),
    "participant 3": (lambda: AnalyzeOptions(participant=3), "participant is a str"),
    "precision fp64": (lambda: AnalyzeOptions(precision="fp64"), "use one of auto, fp32, bf16, int8"),
    "runtime tflite": (lambda: AnalyzeOptions(runtime="tflite"), "use one of auto, onnx, torch"),
    "sampling dict": (lambda: AnalyzeOptions(sampling={"end": 1}), "must be a fervideo Sampling"),
    "every 2.5": (lambda: Sampling(every=2.5), "whole number of frames"),
    "every and fps": (lambda: Sampling(every=2, fps=5), "either every or fps"),
    "start '0:01'": (lambda: Sampling(start="0:01"), "numbers of seconds"),
    "end as a keyword": (lambda: list(fervideo.analyze_video(SAMPLE, end=1)), "go in sampling=Sampling"),
    "unknown keyword": (lambda: fervideo.analyze_image(np.zeros((8, 8, 3), np.uint8), foo=1), "no AnalyzeOptions"),
    "options as a dict": (lambda: list(fervideo.analyze_video(SAMPLE, {"model": "fernet"})), "not dict"),
    "Analyzer of a dict": (lambda: fervideo.Analyzer({"model": "fernet"}), "not dict"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_option_is_one_usage_error_when_it_is_given(name):
    make, message = BAD[name]
    with pytest.raises(UsageError, match=message):
        make()


def test_good_options_still_pass():
    options = AnalyzeOptions.overridden(None, {"batch_size": 8, "smooth": 0.2, "sampling": Sampling(end=1.5)})
    assert options.batch_size == 8 and options.sampling.end == 1.5
    assert AnalyzeOptions.overridden(options, {}) is options
