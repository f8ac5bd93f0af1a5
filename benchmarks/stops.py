"""Stop fervideo's commands at random moments and count the contract breaks each stop left.

    python benchmarks/stops.py [--runs 10] [--commands analyze,batch,live,report,export] [--seed 0] [--timeout 60]

Each run is the real CLI in a fresh process, in a fresh folder that holds an earlier complete result and a user's
own files. After a delay drawn from the command's range it is sent SIGINT (Ctrl-C), SIGTERM or SIGKILL; batch's
signal goes half the time to one of its workers instead of the driver. A SIGKILL to the command is followed by a
rerun of the same command to the end, which must repair what the kill cut short. A break is:

- a traceback or an "internal error" line on stderr, or an exit status the stop does not explain;
- a hang: the command (or the rerun) still running the timeout after the stop, or a process of its (a batch worker,
  an ffmpeg) still alive after it exited;
- an output that looks complete but is not: a JSON without its CSV, a JSON that lists a file that is not there, a
  CSV that does not read back or whose analysed frames differ from the JSON's count; after a SIGINT or SIGTERM, a
  temporary file left behind;
- a user's file lost or changed.

Temporary files that a SIGKILLed process left are counted apart ("leftovers"): the kill gave it no chance to remove
them, and they are hidden; `fervideo batch` in that folder removes them.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from cli_args import positive_float, positive_int  # noqa: E402  (benchmarks/ is on the path when the script runs)

DEMO = ROOT / "samples" / "demo.mp4"
MARK = "FERVIDEO_STOPS_RUN"  # in the environment of the command and of every process it starts
USER = {"notes.txt": b"my notes\n", "demo.face_notes.tsv": b"t\tnote\n0\tsmiles\n", "live.notes.txt": b"x\n"}
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
STOPPED = {0, 130, 143, -signal.SIGINT, -signal.SIGTERM}  # done first, stopped, or died of it while shutting down

# per command: its arguments in a run's folder, and the range of delays (s) that covers start-up to the end
COMMANDS = {
    "analyze": ("analyze {demo} -o {out} --report --export eaf,boris -q", (0.05, 4.5)),
    "batch": ("batch {inputs} -o {out} --workers 2 --glob * --force -q", (0.05, 7.0)),
    "live": ("live --camera {demo} --no-window --csv {out}/live.csv --record {out}/live.mp4 -q", (0.05, 7.5)),
    "report": ("report {out}/demo.csv -q", (0.05, 1.4)),
    "export": ("export {out}/demo.csv --format eaf,boris -q", (0.05, 0.8)),
}


def fervideo(argv: list[str], env: dict | None = None, **kwargs: object) -> subprocess.Popen:
    """The console script's code path (fervideo.entry) in a fresh interpreter."""
    code = "import sys; from fervideo.entry import run; sys.exit(run())"
    return subprocess.Popen([sys.executable, "-c", code, *argv], cwd=ROOT, env=env, **kwargs)


def templates(base: Path) -> dict[str, Path]:
    """The earlier results each command's folder starts from: made once, by fervideo itself."""
    inputs = base / "inputs"
    inputs.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        shutil.copy(DEMO, inputs / name)
    made = {"inputs": inputs, "analyze": base / "result", "batch": base / "batch", "live": base / "live"}
    for name, argv in (
        ("analyze", f"analyze {DEMO} -o {made['analyze']} --report --export eaf,boris -q"),
        ("batch", f"batch {inputs} -o {made['batch']} --workers 2 --glob * -q"),
        ("live", f"live --camera {DEMO} --no-window --max-frames 30 --csv {made['live']}/live.csv -q"),
    ):
        assert fervideo(argv.split()).wait() == 0, f"could not make the earlier result of {name}"
    made["report"] = made["export"] = made["analyze"]
    return made


def children(pid: int) -> list[int]:
    """The processes whose parent is pid."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def marked(mark: str) -> list[int]:
    """Live processes whose environment carries this run's mark: the command and everything it started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and f"{MARK}={mark}".encode() in (entry / "environ").read_bytes().split(b"\0")
                and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int | None, str]:
    """The exit status (None: still running after timeout, then killed) and stderr of proc."""
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return None, err


def check_folder(out: Path, clean: bool) -> tuple[list[str], int]:
    """The breaks in an output folder (user files, results that look complete but are not) and its leftovers."""
    from fervideo.outputs.results import read_table

    breaks = [f"user file {name} lost or changed" for name, data in USER.items() if _read(out / name) != data]
    for path in sorted(out.glob("*.json")):
        try:
            summary = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            breaks.append(f"{path.name} does not read: {exc}")
            continue
        csv = path.with_suffix(".csv")
        missing = [name for name in summary.get("files", []) if not (out / name).exists()]
        if missing:
            breaks.append(f"{path.name} lists files that are not there: {missing}")
        if not csv.is_file():
            breaks.append(f"{path.name} without {csv.name}")
            continue
        try:
            frames = len(set(read_table(csv).frame.tolist()))
        except Exception as exc:  # any failure to read back is the finding
            breaks.append(f"{csv.name} does not read back: {exc}")
            continue
        if frames != summary["counts"]["frames_analysed"]:
            breaks.append(f"{csv.name} has {frames} analysed frames, {path.name} says {summary['counts']}")
    hidden = [p.name for p in out.rglob(".*")]
    if clean and hidden:
        breaks.append(f"a stopped run left {hidden}")
    return breaks, 0 if clean else len(hidden)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def complaint(code: int | None, err: str, allowed: set[int]) -> list[str]:
    """What is wrong with how a command ended."""
    last = err.strip().splitlines()[-1] if err.strip() else ""
    if code is None:
        return [f"hang: still running after the timeout ({last})"]
    found = ["traceback"] * ("Traceback" in err) + ["internal error"] * ("internal error" in err)
    if code not in allowed:
        found.append(f"exit {code}: {last}")
    return found


def run_once(command: str, made: dict[str, Path], signum: int, rng: random.Random, timeout: float, tmp: Path) -> dict:
    """One stopped run of command; its signal, target, exit status, breaks and leftovers."""
    argv_text, (low, high) = COMMANDS[command]
    out = tmp / "out"
    shutil.copytree(made[command], out)
    for name, data in USER.items():
        (out / name).write_bytes(data)
    argv = argv_text.format(demo=DEMO, inputs=made["inputs"], out=out).split()
    mark = f"{os.getpid()}-{tmp.name}"
    env = {**os.environ, MARK: mark}
    delay = rng.uniform(low, high)
    proc = fervideo(argv, env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    target = "command"
    workers = children(proc.pid) if command == "batch" and rng.random() < 0.5 else []
    workers = [pid for pid in workers if pid in marked(mark)]
    if workers:
        target, pid = "worker", rng.choice(workers)
    else:
        pid = proc.pid
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        target += " (already gone)"
    # a stopped worker costs only its input: the driver goes on to the end
    code, err = finish(proc, timeout if target.startswith("command") else 300)
    allowed = {0, 1} if target == "worker" else STOPPED | ({-signal.SIGKILL} if signum == signal.SIGKILL else set())
    breaks = complaint(code, err, allowed)
    time.sleep(0.5 if command != "batch" else 3)  # workers and ffmpeg go with their command within ~2 s
    if orphans := marked(mark):
        breaks.append(f"processes outlived the command: {orphans}")
        for orphan in orphans:
            os.kill(orphan, signal.SIGKILL)
    killed = signum == signal.SIGKILL and target.startswith("command")
    if killed:  # the next command in the folder finishes or undoes what the kill cut short
        rerun = fervideo(argv, env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        breaks += [f"rerun: {b}" for b in complaint(*finish(rerun, 300), {0})]
    found, leftovers = check_folder(out, clean=not killed)
    name = signal.Signals(signum).name
    return {
        "signal": name,
        "target": target,
        "code": code,
        "delay": delay,
        "breaks": breaks + found,
        "leftovers": leftovers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive_int, default=10, help="stopped runs of each command")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated, of " + ", ".join(COMMANDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--timeout", type=positive_float, default=60.0, help="seconds a stopped command may take to exit"
    )
    args = parser.parse_args()
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    if unknown := [c for c in commands if c not in COMMANDS]:
        parser.error(f"unknown commands {unknown}")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="fervideo-stops-") as base:
        made = templates(Path(base))
        total = 0
        for command in commands:
            codes, breaks, leftovers = collections.Counter(), 0, 0
            for i in range(args.runs):
                with tempfile.TemporaryDirectory(dir=base) as tmp:
                    # the three signals in turn, so that every command gets its share of each
                    result = run_once(command, made, SIGNALS[i % len(SIGNALS)], rng, args.timeout, Path(tmp))
                at = " to a worker" if result["target"] == "worker" else ""
                codes[f"{result['signal']}{at}->{result['code']}"] += 1
                leftovers += result["leftovers"]
                if result["breaks"]:
                    breaks += 1
                    what = f"{result['signal']} to the {result['target']} after {result['delay']:.2f} s"
                    print(
                        f"  {command} run {i}: {what}, exit {result['code']}: {'; '.join(result['breaks'])}", flush=True
                    )
            total += breaks
            counts = dict(sorted(codes.items()))
            print(
                f"{command}: {args.runs} runs, {breaks} with a contract break; {leftovers} hidden files left by "
                f"SIGKILLs; signal->exit {counts}",
                flush=True,
            )
    print(f"contract breaks: {total} in {args.runs * len(commands)} runs")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
