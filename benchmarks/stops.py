"""Stop `fervideo analyze` at random moments and count what each stop left: exit statuses, crashes, files.

    python benchmarks/stops.py [--runs 40] [--from 0.05] [--to 2.4] [--input samples/demo.mp4] [--seed 0]

Each run is the real CLI in a fresh process, sent SIGINT (as Ctrl-C) after a delay drawn uniformly from the
range. A clean stop exits 130 with one line and leaves nothing; a run whose files were already renamed into
place leaves the complete set, whether it exits 0, 130 or dies of the SIGINT while the interpreter shuts
down. Anything else is counted as a defect and its stderr's last line printed.
"""

from __future__ import annotations

import argparse
import collections
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stop_once(video: Path, delay: float, out: Path) -> tuple[int, list[str], str]:
    """(exit status, names left in the output folder, stderr's last line) of one run stopped after delay s."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fervideo", "analyze", str(video), "-o", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    time.sleep(0.5)  # a child that outlived it (an ffmpeg) would write its file now
    lines = err.strip().splitlines()
    return proc.returncode, sorted(p.name for p in out.iterdir()) if out.is_dir() else [], lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--from", dest="low", type=float, default=0.05, help="shortest delay, seconds")
    parser.add_argument("--to", dest="high", type=float, default=2.4, help="longest delay, seconds")
    parser.add_argument("--input", type=Path, default=ROOT / "samples" / "demo.mp4")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    codes: collections.Counter = collections.Counter()
    defects = 0
    for _ in range(args.runs):
        delay = rng.uniform(args.low, args.high)
        with tempfile.TemporaryDirectory() as tmp:
            code, left, last = stop_once(args.input, delay, Path(tmp) / "out")
        codes[code] += 1
        # complete: the JSON, which is renamed into place last, and no hidden partial file. A stop after the
        # commit exits 130 with the complete set; one while the interpreter shuts down, when Python has put
        # back the default handler, ends the process by SIGINT itself (-2). Neither is a defect.
        complete = any(name.endswith(".json") for name in left) and not any(name.startswith(".") for name in left)
        clean = (complete and code in (0, 130, -signal.SIGINT)) or (code == 130 and not left)
        if not clean:
            defects += 1
            print(f"defect: stopped after {delay:.3f} s, exit {code}, left {left or 'nothing'}: {last}")
    print(f"{args.runs} runs stopped {args.low:g}-{args.high:g} s in; exit statuses {dict(sorted(codes.items()))}")
    print(f"defects (a crash, a traceback's exit, or files left by a stopped run): {defects}")


if __name__ == "__main__":
    main()
