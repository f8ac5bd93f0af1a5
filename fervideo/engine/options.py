"""What an analysis run is asked to do: the model, the sampling, the detector and tracker, the features and mode."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fervideo.core.choices import DEFAULT_MODEL
from fervideo.core.errors import UsageError
from fervideo.engine.detector import DetectorConfig
from fervideo.engine.identity import check_participant
from fervideo.engine.source import Sampling
from fervideo.engine.tracker import TrackerConfig


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
        check_participant(self.participant)
        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be 1 or more, not {self.batch_size}")
        if not self.smooth >= 0:
            raise UsageError(f"--smooth must be 0 or more seconds, not {self.smooth}")

    def to_dict(self) -> dict:
        """For the JSON summary."""
        return asdict(self)
