"""How much each --smooth setting calms the labels, and what it costs in delay.

    python benchmarks/smoothing.py CLIP [CLIP ...] [--seconds 0 0.2 0.3 0.5 1]

Each clip is analysed once, raw (every frame, every face read anew as with --every-frame, the default model); each
smoothing time is then applied to the raw probabilities with the same EmaSmoother that `--smooth` uses. Per setting
it prints: changes of the top label per track-minute; the share of frames whose smoothed label differs from the raw
one; and the delay with which the smoothed label follows a raw label that then holds for at least a second (a real
change, not flicker).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from cli_args import existing_file, non_negative_float, run  # benchmarks/ is on the path when the script runs

from fervideo.engine.smoothing import EmaSmoother
from fervideo.run.library import analyze_video

Series = dict[int, list[tuple[float, np.ndarray]]]  # track id -> [(time, probs)]


def raw_series(clip: Path) -> Series:
    """Every track's raw probabilities, frame by frame."""
    series: Series = defaultdict(list)
    for result in analyze_video(clip, smooth=0.0, every_frame=True):
        if result.analysed:
            for track, probs in zip(result.faces.tracker_id.tolist(), result.faces.probs, strict=True):
                series[track].append((result.time_s, probs.copy()))
    return series


def labels(series: list[tuple[float, np.ndarray]], tau: float) -> np.ndarray:
    """Top labels of one track after smoothing with time constant tau."""
    smoother = EmaSmoother(tau)
    return np.array([int(np.argmax(smoother(np.array([0]), p[None], t)[0])) for t, p in series])


def measure(tracks: Series, tau: float) -> dict[str, float]:
    """Label changes per track-minute, share of frames overridden, mean delay (s) behind lasting raw changes."""
    changes, minutes, overridden, frames, delays = 0, 0.0, 0, 0, []
    for series in tracks.values():
        if len(series) < 2:
            continue
        times = np.array([t for t, _ in series])
        raw, smooth = labels(series, 0.0), labels(series, tau)
        changes += int((smooth[1:] != smooth[:-1]).sum())
        minutes += (times[-1] - times[0]) / 60
        overridden += int((smooth != raw).sum())
        frames += len(series)
        for i in np.flatnonzero(raw[1:] != raw[:-1]) + 1:  # a raw change that then holds for a second
            hold = np.flatnonzero((times >= times[i]) & (times < times[i] + 1.0))
            if times[-1] >= times[i] + 1.0 and (raw[hold] == raw[i]).all():
                caught = hold[smooth[hold] == raw[i]]
                delays.append(times[caught[0]] - times[i] if len(caught) else 1.0)
    return {
        "changes_per_minute": changes / max(minutes, 1e-9),
        "overridden": overridden / max(frames, 1),
        "delay_s": float(np.mean(delays)) if delays else float("nan"),
        "lasting_changes": len(delays),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=existing_file)
    parser.add_argument("--seconds", nargs="+", type=non_negative_float, default=[0.0, 0.2, 0.3, 0.5, 1.0])
    args = parser.parse_args()
    tracks: Series = {}
    for n, clip in enumerate(args.clips):  # track ids of different clips kept apart
        tracks |= {n * 100_000 + k: v for k, v in raw_series(clip).items()}
    print("| --smooth | label changes / track-minute | frames overridden | delay behind a lasting change |")
    print("|---|---|---|---|")
    for tau in args.seconds:
        m = measure(tracks, tau)
        print(
            f"| {tau:g} s | {m['changes_per_minute']:.1f} | {m['overridden']:.1%} | "
            f"{m['delay_s']:.2f} s (n={m['lasting_changes']}) |"
        )


if __name__ == "__main__":
    run(main)
