"""training/gpu.sh, the one-shot GPU job, run end to end on the CPU on a tiny pack: teachers, targets, students."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fervideo.data.dataset import load_split, save_pack, split_files
from fervideo.data.ferplus import read_votes, vote_matrix
from fervideo.engine.checkpoint import load_checkpoint
from tests.helpers import write_folder, write_votes

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None, reason="needs bash and timeout")
def test_gpu_job_runs_both_phases_on_the_cpu(tmp_path):
    folder = write_folder(tmp_path / "fer", {"train": 3, "val": 2})
    pack = tmp_path / "fer2013.npz.xz"
    votes = read_votes(write_votes(tmp_path / "votes.csv", folder, ("train", "val")))
    splits = {s: load_split(folder, s, tmp_path / "cache") for s in ("train", "val")}
    save_pack(pack, splits, {s: vote_matrix(votes, split_files(folder, s)) for s in splits})
    out = tmp_path / "out"
    env = os.environ | {
        "OUT": str(out),
        "DATA": str(pack),
        "DEVICE": "cpu",
        "TEACHERS": "1",
        "STUDENTS": "1",
        "PHASE1": "1",
        "PHASE2": "1",
        "EPOCHS": "2",
        "PY": sys.executable,
        "FERVIDEO_CACHE": str(tmp_path / "cache"),
    }
    done = subprocess.run(["bash", "training/gpu.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    log = (out / "log.txt").read_text()
    assert "ensemble val TTA" in log and "student1: best val accuracy" in log
    assert "analyze --device cpu: exit 0" in log  # the default model timed on the job's device
    student = load_checkpoint(out / "student1.pt")
    assert student["config"]["width"] == 48 and student["arch"] == "fernet_plus" and student["hp"]["ferplus"]
    assert student["metrics"]["val_labels"] == "ferplus-majority"
    shipped = (ROOT / "fervideo" / "weights" / "fernet_plus.pt").is_file()
    assert len(student["hp"]["teacher"]) == 1 + shipped  # its teacher, and the shipped model once there is one
    assert len(list(out.glob("teachers-*.npy"))) == 1
