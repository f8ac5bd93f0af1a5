"""fervideo: read the emotions on the faces in a video, frame by frame.

    import fervideo
    for result in fervideo.analyze_video("clip.mp4"):  # one FrameResult per frame; writes nothing
        print(result.index, result.faces.probs)  # (faces, 7) in EMOTIONS order
    for face in fervideo.analyze_image("photo.jpg"):  # a path or a BGR numpy array; a list of Face
        print(face.box, face.emotion, face.probs["happy"], face.valence)
    df = fervideo.load_results("out/clip.csv")  # a run's CSV as a pandas DataFrame
    tracks = fervideo.summarize(df)  # one row per tracked face
    # as `fervideo analyze clip.mp4 --start 1.5 --end 10` smooths (the library's own default is raw, smooth=0)
    results = fervideo.analyze_video("clip.mp4", smooth=0.2, sampling=fervideo.Sampling(start=1.5, end=10))

fervideo's own errors derive from fervideo.FervideoError: UsageError (a bad argument or option), InputError (an
input that is missing or unreadable), ModelError and OutputError; each message says what to do.

The package's folders are its layers, bottom to top: core, data and engine, outputs, run, cli.
"""

import os

# OpenCV's FFmpeg backend logs decoder complaints straight to stderr; the CLI reports errors itself.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

__version__ = "0.1.0"

from fervideo.core.labels import EMOTIONS  # noqa: E402

# The public API is imported on first use (PEP 562): `import fervideo` stays light, and the command line can
# catch a Ctrl-C that lands while torch is still loading.
_LAZY = {
    "AnalyzeOptions": "fervideo.engine.pipeline",
    "Analyzer": "fervideo.engine.pipeline",
    "Face": "fervideo.run.library",
    "FrameResult": "fervideo.core.frames",
    "analyze_image": "fervideo.run.library",
    "analyze_video": "fervideo.run.library",
    "load_results": "fervideo.outputs.results",
    "summarize": "fervideo.outputs.results",
    # AnalyzeOptions' parts, which its messages name (sampling=Sampling(...)), and the errors the API raises
    "Sampling": "fervideo.engine.source",
    "DetectorConfig": "fervideo.engine.detector",
    "TrackerConfig": "fervideo.engine.tracker",
    "FervideoError": "fervideo.core.errors",
    "InputError": "fervideo.core.errors",
    "ModelError": "fervideo.core.errors",
    "OutputError": "fervideo.core.errors",
    "UsageError": "fervideo.core.errors",
}


def __dir__() -> list[str]:
    """The public API (what `from fervideo import *` gives), loaded or not."""
    return sorted(__all__)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fervideo' has no attribute {name!r}")


__all__ = [
    "EMOTIONS",
    "AnalyzeOptions",
    "Analyzer",
    "DetectorConfig",
    "Face",
    "FervideoError",
    "FrameResult",
    "InputError",
    "ModelError",
    "OutputError",
    "Sampling",
    "TrackerConfig",
    "UsageError",
    "__version__",
    "analyze_image",
    "analyze_video",
    "load_results",
    "summarize",
]
