#!/usr/bin/env bash
# Turns a finished training run into a shipped model: copies RUN/best to models/NAME,
# evaluates it on val (plain and with flip TTA), exports the ONNX variants into models/onnx/, and writes
# the run's eval.json for the report. Usage: scripts/ship-model.sh [RUN_DIR] [VAL_DIR] [TRAIN_DIR]
# MODEL=DIR ships that model instead of RUN_DIR/best (e.g. one made by `fer average`), with RUN_DIR's curves.
# NAME=fer-mini-xception-slim ships it under another name (models/NAME, models/onnx/NAME.*.onnx).
set -euo pipefail
name=${NAME:-fer-mini-xception}
run=${1:-runs/shipped}
val=${2:-../shared/data/fer2013/val}
train=${3:-../shared/data/fer2013/train}
rm -rf "models/$name" && mkdir -p models/onnx
cp -r "${MODEL:-$run/best}" "models/$name"
./bin/fer eval --model models/$name --data "$val" --tta none --out "$run" | tee "$run/eval.txt"
./bin/fer eval --model models/$name --data "$val" --tta flip --json > "$run/eval-tta.json"
./bin/fer eval --model models/$name --data "$val" --tta tencrop --json > "$run/eval-tencrop.json"
for p in fp32 fp16 int8; do
  # Verification and int8 calibration on training images (spread over all classes), not on val.
  ./bin/fer export onnx --model models/$name --precision $p --data "$train" \
    --out models/onnx/$name.$p.onnx --force | tee "$run/export-$p.txt"
done
# The full-integer QDQ graph for TensorRT and NPUs (the int8 above is the CPU target: int8 weights, float compute).
./bin/fer export onnx --model models/$name --precision int8 --target tensorrt --data "$train" \
  --out models/onnx/$name.int8-tensorrt.onnx --force | tee "$run/export-int8-tensorrt.txt"
for p in fp32 fp16 int8 int8-tensorrt; do
  ./bin/fer eval --model models/onnx/$name.$p.onnx --data "$val" --tta none --json > "$run/eval-onnx-$p.json"
done
