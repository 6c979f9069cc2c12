#!/usr/bin/env bash
# fer prune (sparsity 0.5, the default 1-epoch fine-tune: mask held, dense model teaching) on TRAIN with tfjs's
# training step against the native whole step, one line per arm: whole-command wall and CPU, the fine-tune epoch's
# seconds and img/s (metrics.jsonl), trainStep from run.json, accuracy and balanced accuracy of prune/best on EVAL.
# Arms: tfjs (FER_TRAIN_STEP=tfjs), native (this checkout), base (the checkout in BASE, e.g. an older commit's worktree
# with node_modules and native/build). Run it several times, alternating the arms' order (ARMS="native tfjs").
# Usage: [ARMS="tfjs native base"] [BASE=DIR] [TRAIN=scratch/train4096] bench/prune-step-ab.sh OUT EVAL_DIR
set -euo pipefail
out=$(realpath -m "$1") eval=$(realpath "$2")
here=$(pwd)
train=$(realpath "${TRAIN:-scratch/train4096}")
[ -n "${OMP_WAIT_POLICY:-}" ] || export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
source bench/lib.sh
for arm in ${ARMS:-tfjs native}; do
  o=$out/$arm
  rm -rf "$o"
  mkdir -p "$o"
  dir=$here
  [ "$arm" = base ] && dir=$(realpath "$BASE")
  if [ "$arm" = tfjs ]; then export FER_TRAIN_STEP=tfjs; else unset FER_TRAIN_STEP; fi
  l0=$(cut -d' ' -f1 /proc/loadavg)
  (cd "$dir" && /usr/bin/time -f "%e %U %S" -o "$o/time" ./bin/fer prune --model models/fer-mini-xception --target-sparsity 0.5 \
    --finetune-epochs 1 --data "$train" --threads 1 --out "$o/prune" --force --json >"$o/prune.json" 2>"$o/prune.log")
  unset FER_TRAIN_STEP
  l1=$(cut -d' ' -f1 /proc/loadavg)
  ft=$(node -e "const m=require('fs').readFileSync('$o/prune/metrics.jsonl','utf8').trim().split('\n').map(JSON.parse);console.log(m[0].seconds.toFixed(1)+' s '+m[0].imagesPerSecond.toFixed(0)+' img/s, train acc '+(m[0].acc*100).toFixed(2))")
  ts=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$o/prune/run.json','utf8')).trainStep)")
  read -r wall user sys <"$o/time"
  echo "$arm: trainStep $ts; wall ${wall} s, CPU $(echo "$user + $sys" | bc) s; fine-tune $ft; $(val_metrics "$o/prune/best" "$eval" none --threads 1) (acc, balanced); load $l0 -> $l1"
done
