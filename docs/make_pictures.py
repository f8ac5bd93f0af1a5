"""Make the README's pictures from the project's own sample clip: an annotated frame and the report.

    python docs/make_pictures.py [--chromium chromium]

Analyses samples/demo.mp4 (--smooth 0.5 --report) into a temporary folder, takes one frame of the H.264
annotated video and a screenshot of the report in headless Chromium (Debian: apt-get install chromium),
and writes both as small JPEGs beside this script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from fervideo.engine.pipeline import AnalyzeOptions, Analyzer
from fervideo.run.job import analyze_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path("samples/demo.mp4")  # relative to ROOT, so that the report shows no local folder
DOCS = ROOT / "docs"
FRAME_AT = 1.6  # seconds: zoomed in on the face, before the camera pans away
REPORT_WIDTH = 900  # pixels of the saved screenshot
VIEWER_AT = (1.6, 5.2)  # seconds: the viewer at two moments, the first face and the second


def annotated_frame(video: Path, at: float) -> np.ndarray:
    """The frame of the annotated video shown at `at` seconds."""
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_MSEC, at * 1000)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        sys.exit(f"error: could not read {video} at {at} s")
    return frame


def screenshot(chromium: str, page: Path, out: Path) -> np.ndarray:
    """A headless Chromium screenshot of page, 1100 CSS pixels wide, cropped to the page's content."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            "--window-size=1100,1700",
            page.as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    image = cv2.imread(str(out))
    rows = np.flatnonzero((np.abs(image.astype(int) - image[-1:, :, :]).sum(axis=(1, 2))) > 0)
    return image[: rows[-1] + 24] if len(rows) else image  # drop the empty background below the page


def viewer_shots(chromium: str, page: Path, times: tuple[float, ...]) -> list[np.ndarray]:
    """The report's viewer after seeking to each time, by clicking its first timeline, as Playwright drives it."""
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1100, "height": 900})
        tab.goto(page.as_uri())
        tab.wait_for_function("document.getElementById('fv-video').readyState >= 2", timeout=20000)
        for t in times:
            lane = tab.locator('.lane[data-track="1"] canvas').bounding_box()
            duration = tab.evaluate("document.getElementById('fv-video').duration")
            tab.mouse.click(lane["x"] + lane["width"] * t / duration, lane["y"] + lane["height"] / 2)
            tab.wait_for_function(
                "document.getElementById('fv-video').readyState >= 2 && !document.getElementById('fv-video').seeking"
            )
            tab.wait_for_timeout(300)
            png = tab.locator("#fv").screenshot()
            shots.append(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR))
        browser.close()
    return shots


def save_jpeg(path: Path, image: np.ndarray, quality: int = 85) -> None:
    """Write a JPEG and say how big it is."""
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    print(f"{path.relative_to(ROOT)}: {image.shape[1]}x{image.shape[0]}, {path.stat().st_size // 1024} KB")


def main() -> None:
    """Analyse the sample and write docs/annotated-frame.jpg, docs/report.jpg and the two viewer pictures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="chromium", help="headless browser for the report screenshot")
    args = parser.parse_args()
    chromium = shutil.which(args.chromium)
    if chromium is None:
        sys.exit(f"error: {args.chromium} not found; install Chromium (Debian: apt-get install chromium)")
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp, Analyzer(AnalyzeOptions(smooth=0.5)) as analyzer:
        out = Path(tmp)
        analyze_file(SAMPLE, out, analyzer, report=True)
        save_jpeg(DOCS / "annotated-frame.jpg", annotated_frame(out / "demo.annotated.mp4", FRAME_AT))
        page = screenshot(chromium, out / "demo.report.html", out / "report.png")
        height = round(page.shape[0] * REPORT_WIDTH / page.shape[1])
        save_jpeg(DOCS / "report.jpg", cv2.resize(page, (REPORT_WIDTH, height), interpolation=cv2.INTER_AREA))
        for name, shot in zip(
            ("viewer.jpg", "viewer-later.jpg"), viewer_shots(chromium, out / "demo.report.html", VIEWER_AT), strict=True
        ):
            save_jpeg(DOCS / name, shot)


if __name__ == "__main__":
    main()
