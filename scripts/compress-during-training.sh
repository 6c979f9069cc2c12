#!/usr/bin/env bash
# The paper's way to a lighter model: prune (polynomial schedule to 50%) and quantize (8-bit per-channel
# QAT) while training, here as a fine-tuning run from a trained model (sparsity reaches 50% at 40% of it), then val accuracy of the
# result next to the starting model (both without test-time augmentation), and its int8 ONNX export.
# Usage: scripts/compress-during-training.sh [MODEL_DIR] [OUT_DIR] [EPOCHS] [THREADS]
set -euo pipefail
model=${1:-models/fer-mini-xception}
out=${2:-runs/compress-ft}
epochs=${3:-20}
threads=${4:-2}
data=${FER_DATA:-../shared/data/fer2013}
./bin/fer train --data "$data/train" --val "$data/val" --init "$model" --out "$out" --epochs "$epochs" \
  --schedule cosine --lr 0.0003 --min-lr 0.00001 --label-smoothing 0.1 --l2 0.001 --patience 0 \
  --prune-target 0.5 --prune-begin 0 --prune-end 0.4 --prune-frequency 50 \
  --quantize-bits 8 --granularity per-channel --threads "$threads"
acc() { ./bin/fer eval --model "$1" --data "$data/val" --tta none --json 2>/dev/null \
  | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log((JSON.parse(s).accuracy*100).toFixed(2)))"; }
echo "| model | val accuracy (--tta none) |"
echo "|---|---|"
echo "| $model | $(acc "$model")% |"
echo "| $out/best (50% sparse, int8 QAT) | $(acc "$out/best")% |"
./bin/fer export onnx --model "$out/best" --precision int8 --data "$data/train" --out "$out/model.int8.onnx"
echo "| $out/model.int8.onnx | $(acc "$out/model.int8.onnx")% |"
