"""fervideo: read the emotions on the faces in a video, frame by frame."""

import os

# OpenCV's FFmpeg backend logs decoder complaints straight to stderr; the CLI reports errors itself.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

__version__ = "0.1.0"

from fervideo.labels import EMOTIONS  # noqa: E402
from fervideo.pipeline import AnalyzeOptions, Analyzer, FrameResult, analyze_video  # noqa: E402
from fervideo.results import load_results, summarize  # noqa: E402

__all__ = [
    "EMOTIONS",
    "AnalyzeOptions",
    "Analyzer",
    "FrameResult",
    "__version__",
    "analyze_video",
    "load_results",
    "summarize",
]
