"""What an analysis run is asked to do: the model, the sampling, the detector and tracker, the features and mode."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import asdict, dataclass

import numpy as np

from fervideo.core.choices import DEFAULT_MODEL, PRECISIONS, RUNTIMES
from fervideo.core.errors import UsageError
from fervideo.engine.detector import DetectorConfig
from fervideo.engine.identity import check_participant
from fervideo.engine.source import Sampling
from fervideo.engine.tracker import TrackerConfig

SAMPLING_FIELDS = {"start", "end", "every", "fps"}  # a keyword a caller may mean for AnalyzeOptions: Sampling's
SWITCHES = ("tta", "align", "face_features", "every_frame")  # True or False: a truthy "no" would turn one on


@dataclass(frozen=True)
class AnalyzeOptions:
    model: str = DEFAULT_MODEL  # registered name or checkpoint path
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 | int8 (runtime.choose)
    runtime: str = "auto"  # auto | onnx | torch: ONNX Runtime for the shipped models, torch for other checkpoints
    sampling: Sampling = Sampling()
    batch_size: int = 32  # faces per forward pass; larger batches hold the detector up for longer
    tta: bool = False  # average mirrored and cropped views (classifier.tta_views): +1 pt val accuracy, 6x its cost
    detector: DetectorConfig = DetectorConfig()
    tracker: TrackerConfig = TrackerConfig()
    smooth: float = 0.0  # seconds: EMA time constant of each track's probabilities; 0 keeps them raw
    align: bool = False  # turn each crop so that the eyes are level (BlazeFace's eye keypoints)
    face_features: bool = True  # head pose, eyes, mouth and gaze from the face mesh (Detections.features)
    participant: str = "everyone"  # whose faces the results keep: everyone, largest, center or an id
    every_frame: bool = False  # search every sampled frame and analyse every face (engine.schedule: the default skips)

    def __post_init__(self) -> None:
        # the library's callers pass values the CLI's parser never would: each is checked here, not mid-run
        self._plain()
        if not isinstance(self.participant, str):
            raise UsageError(f"participant is a str (everyone, largest, center or an id), not {self.participant!r}")
        check_participant(self.participant)
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise UsageError(f"--batch-size must be a whole number, 1 or more, not {self.batch_size!r}")
        if not isinstance(self.smooth, float) or not 0 <= self.smooth < math.inf:  # a number is a float by now
            raise UsageError(f"--smooth must be 0 or more seconds, a finite number, not {self.smooth!r}")
        for name, value, choices in (("precision", self.precision, PRECISIONS), ("runtime", self.runtime, RUNTIMES)):
            if value not in choices:
                raise UsageError(f"{name} {value!r}: use one of {', '.join(choices)}")
        if not isinstance(self.sampling, Sampling):
            raise UsageError(f"sampling must be a fervideo Sampling (start, end, every, fps), not {self.sampling!r}")
        self._check_parts()

    def _plain(self) -> None:
        """Paths, numpy numbers and numpy booleans as the str, int, float and bool that the JSON summary holds."""
        if isinstance(self.model, os.PathLike):
            object.__setattr__(self, "model", os.fspath(self.model))  # frozen: set once, while it is being built
        if not isinstance(self.model, str):
            raise UsageError(f"model is a registered name (fervideo models) or a checkpoint's path, not {self.model!r}")
        for name in SWITCHES:
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise UsageError(f"{name} is True or False, not {value!r}")
            object.__setattr__(self, name, bool(value))
        if isinstance(self.batch_size, numbers.Integral) and not isinstance(self.batch_size, bool):
            object.__setattr__(self, "batch_size", int(self.batch_size))
        if isinstance(self.smooth, numbers.Real) and not isinstance(self.smooth, bool):
            object.__setattr__(self, "smooth", float(self.smooth))

    def _check_parts(self) -> None:
        """The detector's and the tracker's settings: their own types, and the score the CLI bounds as well."""
        if not isinstance(self.detector, DetectorConfig):
            raise UsageError(f"detector must be a fervideo DetectorConfig, not {self.detector!r}")
        if not isinstance(self.tracker, TrackerConfig):
            raise UsageError(f"tracker must be a fervideo TrackerConfig, not {self.tracker!r}")
        score = self.detector.min_score
        if isinstance(score, bool) or not isinstance(score, numbers.Real) or not 0 <= score <= 1:
            raise UsageError(f"detector min_score must be between 0 and 1 (--min-face-score), not {score!r}")

    @classmethod
    def overridden(cls, options: AnalyzeOptions | None, overrides: dict) -> AnalyzeOptions:
        """options (or the defaults) with the keyword arguments a library call was given; UsageError for others."""
        options = options or cls()
        if not isinstance(options, cls):
            raise UsageError(f"options must be a fervideo AnalyzeOptions, not {type(options).__name__}")
        if unknown := sorted(set(overrides) - set(options.__dict__)):
            hint = "; start, end, every and fps go in sampling=Sampling(...)" * bool(SAMPLING_FIELDS & set(unknown))
            raise UsageError(f"no AnalyzeOptions field {', '.join(unknown)}{hint}")
        return cls(**{**options.__dict__, **overrides}) if overrides else options

    def to_dict(self) -> dict:
        """For the JSON summary."""
        return asdict(self)
