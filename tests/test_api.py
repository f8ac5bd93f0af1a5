"""The public API from `import fervideo`: listed by dir() and help(), every name resolving to the real object."""

from __future__ import annotations

import pydoc

import fervideo

API = {
    "analyze_image",
    "analyze_video",
    "load_results",
    "summarize",
    "AnalyzeOptions",
    "Analyzer",
    "Face",
    "FrameResult",
    "EMOTIONS",
}


def test_dir_lists_the_public_api_before_anything_is_loaded():
    assert set(dir(fervideo)) >= API
    assert set(fervideo.__all__) == set(dir(fervideo))


def test_every_public_name_resolves_to_the_object_of_its_layer():
    from fervideo.core.frames import FrameResult
    from fervideo.outputs.results import load_results
    from fervideo.run.library import analyze_image, analyze_video

    assert fervideo.analyze_video is analyze_video
    assert fervideo.analyze_image is analyze_image
    assert fervideo.load_results is load_results
    assert fervideo.FrameResult is FrameResult
    for name in API:
        assert getattr(fervideo, name) is not None


def test_help_shows_the_public_functions():
    text = pydoc.render_doc(fervideo, renderer=pydoc.plaintext)
    for name in ("analyze_video", "analyze_image", "load_results", "summarize", "AnalyzeOptions"):
        assert name in text


def test_an_unknown_name_is_an_attribute_error():
    try:
        fervideo.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("fervideo.no_such_name resolved")
