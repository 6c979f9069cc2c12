#!/usr/bin/env bash
# Issue 36's compression pipeline, one run: the shipped model → fer prune (S sparsity, 1-epoch fine-tune on
# scratch/train4096) → fer quantize --bits 8 → fer export onnx --precision int8 → fer eval --tta none on EVAL.
# Usage: bench/prune-pipeline.sh OUT_DIR SPARSITY EVAL_DIR [more fer prune flags…]
# Prints one line: out dir, sparsity, prune seconds, zeros %, tfjs and int8 ONNX accuracy and balanced accuracy (mean
# per-class recall), percent.
# Make the data first: node bench/make-subset.mjs …/fer2013/train scratch/train4096 4096, and for EVAL_DIR the dev
# split (node bench/make-dev-split.mjs …/fer2013/train scratch/dev3589) or val, once, for the final candidates.
set -euo pipefail
out=$1 s=$2 eval=$3
shift 3
[ -n "${OMP_WAIT_POLICY:-}" ] || export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
source bench/lib.sh
train=${TRAIN:-scratch/train4096}
mkdir -p "$out"
t0=$(date +%s.%N)
fer prune --model models/fer-mini-xception --target-sparsity "$s" --finetune-epochs 1 --data "$train" --threads 1 \
  --out "$out/prune" --force --json "$@" >"$out/prune.json" 2>"$out/prune.log"
t1=$(date +%s.%N)
fer quantize --model "$out/prune/best" --bits 8 --data "$train" --threads 1 --out "$out/int8" --force --json >"$out/quantize.json" 2>&1
fer export onnx --model "$out/int8" --precision int8 --data "$train" --threads 1 --out "$out/model.int8.onnx" --force --json >"$out/export.json" 2>&1
zeros=$(node -e "const r=JSON.parse(require('fs').readFileSync('$out/prune.json','utf8').trim().split('\n').pop()); console.log((r.sparsity*100).toFixed(2))")
read -r tfjs tfjsbal < <(val_metrics "$out/prune/best" "$eval" none --threads 1)
read -r int8 int8bal < <(val_metrics "$out/model.int8.onnx" "$eval" none --threads 1)
printf '%s s=%s prune %.0fs zeros %s%% tfjs %s%% (bal %s) int8 %s%% (bal %s) (load %s) flags: %s\n' "$out" "$s" "$(echo "$t1 - $t0" | bc)" "$zeros" "$tfjs" "$tfjsbal" "$int8" "$int8bal" "$(cut -d' ' -f1-3 /proc/loadavg)" "$*"
