"""Generate samples/demo.mp4 from the public-domain portrait of Grace Hopper that matplotlib ships.

The camera starts on her face, zooms in, pans off to an empty wall for about a second (no face), and
comes back; 640x360, 25 fps, 6 seconds. Deterministic, so the clip can be rebuilt byte for byte by
OpenCV's encoder of the same version.

    python samples/make_sample.py [--out samples/demo.mp4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from matplotlib import cbook

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 25, 6


def canvas() -> np.ndarray:
    """The portrait on a wide wall with soft texture, so panning right leaves the face."""
    portrait = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))  # (600, 512, 3)
    height, width = portrait.shape[:2]
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (height, width * 4)).astype(np.float32), (0, 0), 9)
    wall = np.clip(np.array([96, 110, 128], np.float32) + noise[..., None], 0, 255)
    ramp = np.clip(np.minimum(np.arange(width), np.arange(width)[::-1]) / 40, 0, 1)[None, :, None]
    wall[:, width : 2 * width] = portrait * ramp + wall[:, width : 2 * width] * (1 - ramp)  # soft edges
    return wall.astype(np.uint8)


def camera(t: float) -> tuple[float, float, float]:
    """Centre x, centre y and view height in canvas pixels at time t (seconds)."""
    keys = np.array(
        [  # t, cx, cy, view height
            [0.0, 800, 300, 600],
            [1.5, 820, 250, 380],
            [2.2, 860, 260, 420],
            [2.9, 1800, 300, 500],
            [3.9, 1800, 320, 500],
            [4.6, 820, 280, 450],
            [6.0, 790, 300, 560],
        ]
    )
    return tuple(float(np.interp(t, keys[:, 0], keys[:, i])) for i in (1, 2, 3))


def frames() -> list[np.ndarray]:
    """All frames of the clip, (360, 640, 3) BGR each."""
    wall = canvas()
    out = []
    for i in range(FPS * SECONDS):
        cx, cy, view = camera(i / FPS)
        scale = HEIGHT / view
        shake = np.sin(i * 0.7) * 2.0  # a hand-held wobble of a couple of pixels
        matrix = np.array([[scale, 0, WIDTH / 2 - cx * scale + shake], [0, scale, HEIGHT / 2 - cy * scale]])
        out.append(
            cv2.warpAffine(wall, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "demo.mp4")
    args = parser.parse_args()
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for frame in frames():
        writer.write(frame)
    writer.release()
    print(f"wrote {args.out} ({FPS * SECONDS} frames, {WIDTH}x{HEIGHT}, {FPS} fps)")


if __name__ == "__main__":
    main()
