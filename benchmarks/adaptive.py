"""Issue 36's targets in one run: the adaptive default against --every-frame and against the H.264 floor.

    python benchmarks/adaptive.py [--video ../shared/media/single_face.mp4] [--loop 26] [--factor 4] [--repeat 3]

Every command is the real CLI in a fresh process. The clip is played --loop times in a row with its sound (ffmpeg's
-stream_loop, streams copied). The floor is the same ffmpeg decoding the looped clip and x264-encoding it with the
annotated video's settings (veryfast, crf 20, sound copied). The commands alternate, --repeat rounds; each figure is
the median. CPU time is user + system of the process and everything it waited for (ffmpeg included). Label
agreement: the top emotion of each face in each frame of the CSV, adaptive against --every-frame, over the face-frames
of either (a face only one of them saw disagrees), on the sample and the shared clips. Peak RSS is analyze's own,
on the looped clip and on one --factor times as long (flat in the video's length: the two should match).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_args import positive_int, run
from throughput import machine

from fervideo.core.media import ffmpeg_exe

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
CLIPS = [ROOT / "samples" / "demo.mp4", *(MEDIA / n for n in ("single_face.mp4", "face_noface.mov", "noface_face.mov"))]


def looped(video: Path, loops: int, out: Path) -> Path:
    """The clip played loops times in a row, sound included, streams copied."""
    command = [ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(video), "-c", "copy"]
    subprocess.run([*command, str(out)], check=True)
    return out


# Peak RSS through a small parent: a child forked from this process would count this process's own pages in its
# ru_maxrss (they survive exec), so analyze is started by a fresh interpreter that reports its child's peak
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def timed(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (the process and the children it waited for) and peak RSS in MB of one command."""
    import time

    tic = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", PEAK, *command], stdout=subprocess.PIPE, cwd=ROOT)
    out = process.stdout.read().decode().split()  # analyze -q prints nothing on stdout; the last word is the peak
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - tic
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, usage.ru_utime + usage.ru_stime, int(out[-1]) // 1024


def analyze(video: Path, out: Path, *extra: str) -> list[str]:
    """The CLI command that analyses video into out."""
    return [sys.executable, "-m", "fervideo", "analyze", str(video), "-o", str(out), "-q", *extra]


def floor(video: Path, out: Path) -> list[str]:
    """Decode and x264-encode with the annotated video's settings, sound copied."""
    codec = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "copy"]
    return [ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), *codec, str(out)]


def labels(path: Path) -> dict[tuple[str, str], str]:
    """(frame, face id) -> top emotion, for the faces of a CSV."""
    with path.open(newline="") as f:
        return {(r["frame"], r["face_id"]): r["emotion"] for r in csv.DictReader(f) if r["face_id"]}


def agreement(tmp: Path) -> tuple[int, int, list[str]]:
    """Face-frames where adaptive and --every-frame agree, of all either saw, and a line per clip."""
    same = total = 0
    lines = []
    for clip in (c for c in CLIPS if c.is_file()):
        runs = {}
        for mode in ("adaptive", "every"):
            out = tmp / f"agree-{mode}"
            extra = ["--every-frame"] if mode == "every" else []
            subprocess.run(analyze(clip, out, "--no-video", *extra), check=True, cwd=ROOT)
            runs[mode] = labels(out / f"{clip.stem}.csv")
        work = json.loads((tmp / "agree-adaptive" / f"{clip.stem}.json").read_text())["processing"]
        keys = set(runs["adaptive"]) | set(runs["every"])
        agree = sum(runs["adaptive"].get(k) == runs["every"].get(k) for k in keys)
        same, total = same + agree, total + len(keys)
        read = work["faces_read"] / max(1, work["faces_read"] + work["faces_carried"])
        searched = work["searches"] / max(1, work["searches"] + work["searches_skipped"])
        lines.append(f"  {clip.name}: {agree}/{len(keys)} agree; searched {searched:.0%}, faces read {read:.0%}")
    return same, total, lines


def main() -> None:
    """Print each target's figure beside it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=MEDIA / "single_face.mp4")
    parser.add_argument(
        "--loop", type=positive_int, default=26, help="play the clip this many times (26: 1,872 frames)"
    )
    parser.add_argument("--factor", type=positive_int, default=4, help="the long run for flat memory")
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args()
    if not args.video.is_file():
        parser.error(f"{args.video} not found; pass --video")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clip = looped(args.video, args.loop, tmp / f"loop{args.video.suffix}")
        commands = {
            "floor": floor(clip, tmp / "floor.mp4"),
            "adaptive": analyze(clip, tmp / "a"),
            "every-frame": analyze(clip, tmp / "e", "--every-frame"),
            "adaptive --no-video": analyze(clip, tmp / "an", "--no-video"),
            "every-frame --no-video": analyze(clip, tmp / "en", "--no-video", "--every-frame"),
        }
        runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                runs[name].append(timed(command))
        med = {name: [statistics.median(r[i] for r in rs) for i in range(3)] for name, rs in runs.items()}
        frames = json.loads((tmp / "an" / "loop.json").read_text())["counts"]["frames_read"]
        long_clip = looped(args.video, args.loop * args.factor, tmp / f"long{args.video.suffix}")
        rss_long = timed(analyze(long_clip, tmp / "l"))[2]
        same, total, lines = agreement(tmp)
    print(f"{machine()}; {args.video.name} x{args.loop} ({frames} frames); medians of {args.repeat}")
    print(f"  floor: {med['floor'][1]:.1f} s CPU, {med['floor'][0]:.1f} s wall")
    for name in ("adaptive", "every-frame"):
        wall, cpu, rss = med[name]
        ratio, wall_ratio = cpu / med["floor"][1], wall / med["floor"][0]
        print(f"  analyze {name}: {cpu:.1f} s CPU = {ratio:.2f}x the floor ({wall_ratio:.2f}x wall), {rss} MB")
    fps = {name: frames / med[f"{name} --no-video"][0] for name in ("adaptive", "every-frame")}
    print(
        f"  --no-video: adaptive {fps['adaptive']:.0f} frames/s, every-frame {fps['every-frame']:.0f}: "
        f"{fps['adaptive'] / fps['every-frame']:.2f}x (target >= 2x)"
    )
    print(f"  label agreement with --every-frame: {same}/{total} = {same / max(1, total):.2%} (target >= 98%)")
    print("\n".join(lines))
    print(f"  peak RSS: {med['adaptive'][2]} MB, {rss_long} MB on a {args.factor}x longer clip (target <= 350 MB)")


if __name__ == "__main__":
    run(main)
