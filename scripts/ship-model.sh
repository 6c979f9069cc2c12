#!/usr/bin/env bash
# Turns a finished training run into the shipped model: copies RUN/best to models/fer-mini-xception,
# evaluates it on val (plain and with flip TTA), exports the ONNX variants into models/onnx/, and writes
# the run's eval.json for the report. Usage: scripts/ship-model.sh [RUN_DIR] [VAL_DIR] [TRAIN_DIR]
# MODEL=DIR ships that model instead of RUN_DIR/best (e.g. one made by `fer average`), with RUN_DIR's curves.
set -euo pipefail
run=${1:-runs/shipped}
val=${2:-../shared/data/fer2013/val}
train=${3:-../shared/data/fer2013/train}
rm -rf models/fer-mini-xception && mkdir -p models/onnx
cp -r "${MODEL:-$run/best}" models/fer-mini-xception
./bin/fer eval --model models/fer-mini-xception --data "$val" --tta none --out "$run" | tee "$run/eval.txt"
./bin/fer eval --model models/fer-mini-xception --data "$val" --tta flip --json > "$run/eval-tta.json"
./bin/fer eval --model models/fer-mini-xception --data "$val" --tta tencrop --json > "$run/eval-tencrop.json"
for p in fp32 fp16 int8; do
  # Verification and int8 calibration on training images (spread over all classes), not on val.
  ./bin/fer export onnx --model models/fer-mini-xception --precision $p --data "$train" \
    --out models/onnx/fer-mini-xception.$p.onnx --force | tee "$run/export-$p.txt"
done
# The full-integer QDQ graph for TensorRT and NPUs (the int8 above is the CPU target: int8 weights, float compute).
./bin/fer export onnx --model models/fer-mini-xception --precision int8 --target tensorrt --data "$train" \
  --out models/onnx/fer-mini-xception.int8-tensorrt.onnx --force | tee "$run/export-int8-tensorrt.txt"
for p in fp32 fp16 int8 int8-tensorrt; do
  ./bin/fer eval --model models/onnx/fer-mini-xception.$p.onnx --data "$val" --tta none --json > "$run/eval-onnx-$p.json"
done
