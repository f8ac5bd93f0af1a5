"""Shared fixtures: paths to ../shared (skipped when absent, failed when CI requires it) and the sample."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "samples" / "demo.mp4"


def shared_path(*parts: str) -> Path:
    """A file under ../shared; skip the test when it is missing, fail when FERVIDEO_REQUIRE_SHARED=1."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is missing: the test needs the project's shared data beside the repository"
        if os.environ.get("FERVIDEO_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " (FERVIDEO_REQUIRE_SHARED=1)")
        pytest.skip(reason)
    return path


@pytest.fixture
def media():
    """Look up a file in ../shared/media by name."""
    return lambda name: shared_path("media", name)


@pytest.fixture(scope="module")
def folder_data(tmp_path_factory):
    """A tiny FER2013 folder (4 train and 2 val faces per class) for training runs."""
    from tests.helpers import write_folder

    return write_folder(tmp_path_factory.mktemp("fer"), {"train": 4, "val": 2})


# --- a real browser: Debian's chromium driven by Playwright ---------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing(reason: str) -> None:
    if os.environ.get("FERVIDEO_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (FERVIDEO_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")  # closed with its module: no event loop left running under later tests
def browser():
    """Headless Chromium; skips (or fails, with FERVIDEO_REQUIRE_BROWSER=1) where it or Playwright is missing."""
    if CHROMIUM is None:
        browser_missing("no chromium on PATH (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def plain_ctrl_c():
    """Python's own SIGINT handler (an earlier test may have left fervideo.entry's), and no stop left recorded."""
    from fervideo.core import signals

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signals.reset()
