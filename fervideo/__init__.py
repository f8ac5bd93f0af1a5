"""fervideo: read the emotions on the faces in a video, frame by frame."""

import os

# OpenCV's FFmpeg backend logs decoder complaints straight to stderr; the CLI reports errors itself.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

__version__ = "0.1.0"

from fervideo.labels import EMOTIONS  # noqa: E402

# The public API is imported on first use (PEP 562): `import fervideo` stays light, and the command line can
# catch a Ctrl-C that lands while torch is still loading.
_LAZY = {
    "AnalyzeOptions": "fervideo.pipeline",
    "Analyzer": "fervideo.pipeline",
    "FrameResult": "fervideo.pipeline",
    "analyze_video": "fervideo.pipeline",
    "load_results": "fervideo.results",
    "summarize": "fervideo.results",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fervideo' has no attribute {name!r}")


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
