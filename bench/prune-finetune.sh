#!/usr/bin/env bash
# Issue 36's fine-tune variants from one one-shot model: INIT (a `fer prune --data` run's prune/pruned-init: pruned,
# reconstructed, batch norm re-estimated) → fer prune --no-reconstruct (the zeros it holds are LAMP's target, so the
# mask is the same), the shipped model teaching → [with INT8=1: fer quantize --bits 8 → fer export onnx --precision
# int8] → fer eval --tta none on each EVAL dir. Through this path the default fine-tune gives exactly what
# bench/prune-pipeline.sh gives, so variants differ only in the fine-tune.
# Usage: bench/prune-finetune.sh OUT INIT SPARSITY "EVAL_DIR…" [more fer prune flags: --lr-decay, --seed N, …]
# Prints per EVAL dir: accuracy and balanced accuracy (mean per-class recall), tfjs and (INT8=1) int8 ONNX, percent.
set -euo pipefail
out=$1 init=$2 s=$3 evals=$4
shift 4
[ -n "${OMP_WAIT_POLICY:-}" ] || export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
source bench/lib.sh
train=${TRAIN:-scratch/train4096}
mkdir -p "$out"
fer prune --model "$init" --target-sparsity "$s" --finetune-epochs 1 --data "$train" --threads 1 --no-reconstruct \
  --teacher models/fer-mini-xception --out "$out/prune" --force --json "$@" >"$out/prune.json" 2>"$out/prune.log"
ft=$(node -e "const m=require('fs').readFileSync('$out/prune/metrics.jsonl','utf8').trim().split('\n').map(JSON.parse);console.log(m[0].seconds.toFixed(0))")
if [ "${INT8:-0}" = 1 ]; then
  fer quantize --model "$out/prune/best" --bits 8 --data "$train" --threads 1 --out "$out/int8" --force --json >"$out/quantize.json" 2>&1
  fer export onnx --model "$out/int8" --precision int8 --data "$train" --threads 1 --out "$out/model.int8.onnx" --force --json >"$out/export.json" 2>&1
fi
for e in $evals; do
  line="$out s=$s fine-tune ${ft}s on $e: tfjs $(val_metrics "$out/prune/best" "$e" none --threads 1)"
  [ "${INT8:-0}" = 1 ] && line="$line int8 $(val_metrics "$out/model.int8.onnx" "$e" none --threads 1)"
  echo "$line (load $(cut -d' ' -f1-3 /proc/loadavg)) flags: $*"
done
