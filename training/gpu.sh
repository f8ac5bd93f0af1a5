#!/usr/bin/env bash
# One lent GPU session (~9 minutes of compute): wide teachers, then distilled students of the default's size.
#
#   here:    python -m training.pack --data ../shared/fer2013 --ferplus ../shared/fer2013/ferplus.csv \
#                --out .gpu/fer2013.npz.xz                                                   (.gpu is git-ignored)
#   there:   bash training/gpu.sh            (carry .gpu; checkpoints, targets and the log land in $OUT)
#   smoke:   DEVICE=cpu EPOCHS=2 TEACHERS=1 STUDENTS=1 PHASE1=0.5 PHASE2=0.5 OUT=/tmp/g bash training/gpu.sh
#            (tests/training/test_gpu_job.py runs it so on a tiny pack)
#
# Phase 1 trains TEACHERS models of width 64 side by side (small models leave a GPU mostly idle, so several
# processes share it well); phase 2 distils their ensemble, with the shipped model, into STUDENTS width-48
# ones with different seeds. --budget fits each run's cosine schedule into its phase's minutes. MODEL is
# fernet_plus (the default: FER+ votes from the pack, camera augmentation, equalised faces) or fernet (the
# FER2013 labels, for the literature's table).
# Last, it times `fervideo analyze --device $DEVICE` on the sample clip once (the CUDA path has not run on a GPU).
set -uo pipefail
OUT=${OUT:-out/gpu}
DATA=${DATA:-.gpu/fer2013.npz.xz}
DEVICE=${DEVICE:-cuda}
TEACHERS=${TEACHERS:-4}
STUDENTS=${STUDENTS:-4}
PHASE1=${PHASE1:-3.6}  # minutes
PHASE2=${PHASE2:-4.8}
EPOCHS=${EPOCHS:-200}  # an upper bound; the budget decides
LIMIT=${LIMIT:-}
MODEL=${MODEL:-fernet_plus}
PY=${PY:-python3}
export OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LOG=$OUT/log.txt
say() { echo "[$(date +%T)] $*" | tee -a "$LOG"; }

say "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo no GPU)"
$PY -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)" | tee -a "$LOG"
$PY -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" \
    "$DATA" "$WORK/fer2013.npz" || { say "cannot unpack $DATA"; exit 1; }
common=(--model "$MODEL" --data "$WORK/fer2013.npz" --device "$DEVICE" --cache-dir "$WORK/cache"
        --ema 0.999 --erase 0.25 --epochs "$EPOCHS" ${LIMIT:+--limit "$LIMIT"})
[ "$MODEL" = fernet_plus ] && common+=(--ferplus "$WORK/fer2013.npz")  # the pack holds the votes

run_phase() {  # name count minutes seed0 args...: count runs side by side, each killed a minute past its budget
    local name=$1 count=$2 minutes=$3 seed0=$4
    shift 4
    say "$name: $count runs, $minutes min each"
    for k in $(seq 1 "$count"); do
        timeout "$(awk "BEGIN {print int($minutes * 60 + 60)}")" \
            $PY -m training.train "${common[@]}" "$@" --budget "$minutes" --seed $((seed0 + k)) \
            --out "$WORK/$name$k.pt" >"$WORK/$name$k.log" 2>&1 &
    done
    wait
    for k in $(seq 1 "$count"); do
        say "$name$k: $(grep -E 'best val accuracy' "$WORK/$name$k.log" || tail -n 3 "$WORK/$name$k.log")"
    done
}

run_phase teacher "$TEACHERS" "$PHASE1" 10 --config width=64
teachers=()
for k in $(seq 1 "$TEACHERS"); do
    [ -f "$WORK/teacher$k.pt" ] && teachers+=(--teacher "$WORK/teacher$k.pt")
done
[ ${#teachers[@]} -gt 0 ] || { say "no teacher finished; see the logs above"; exit 1; }
[ -f "fervideo/weights/$MODEL.pt" ] && teachers+=(--teacher "fervideo/weights/$MODEL.pt")
if [ -z "$LIMIT" ]; then  # once here, not once per student: the cache is keyed by the teachers and the faces
    $PY - "$WORK" "$DEVICE" "$MODEL" "${teachers[@]}" <<'PYEOF' 2>&1 | tee -a "$LOG"
import sys
from pathlib import Path
import numpy as np
from fervideo.data.dataset import load_split
from training.distill import soft_targets
from training.targets import ferplus_splits
work, device, model, paths = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[5::2]
pack = work / "fer2013.npz"
train, val = load_split(pack, "train"), load_split(pack, "val")
if model == "fernet_plus":  # scored against FER+ majority labels, as the runs select
    train, val = ferplus_splits(pack, pack, train, val)
soft_targets(paths, train.images, device, work / "cache")
for path in paths:  # each teacher's own TTA accuracy on val, and the ensemble's
    print(path, f"val TTA {np.mean(soft_targets([path], val.images, device).numpy().argmax(1) == val.labels):.2%}")
print("ensemble", f"val TTA {np.mean(soft_targets(paths, val.images, device).numpy().argmax(1) == val.labels):.2%}")
PYEOF
    cp "$WORK"/cache/teachers-*.npy "$OUT"/ 2>/dev/null
fi
run_phase student "$STUDENTS" "$PHASE2" 20 --config width=48 "${teachers[@]}"
cp "$WORK"/student?.pt "$OUT"/ 2>/dev/null
# The shipped default on this device, timed once over the sample clip (the CUDA path runs on torch unless
# ONNX Runtime's CUDA provider is installed); the JSON says which runtime and device ran it.
t0=$(date +%s.%N)
$PY -m fervideo analyze samples/demo.mp4 --device "$DEVICE" -o "$WORK/analyze" -q >"$WORK/analyze.log" 2>&1
rc=$?
say "analyze --device $DEVICE: exit $rc in $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s" \
    "$(grep -o '"runtime": *"[a-z]*"' "$WORK/analyze/demo.json" 2>/dev/null | tr '\n' ' ')$(tail -n 2 "$WORK/analyze.log")"
for f in "$WORK"/*.log; do echo "== $f" && grep -E "epoch|best|parameters" "$f"; done >>"$LOG"
say "done: $(ls "$OUT" | tr '\n' ' ')"
