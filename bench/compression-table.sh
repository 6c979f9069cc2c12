#!/usr/bin/env bash
# Post-training pruning and quantization of a model, each variant evaluated on val: the table in
# BENCHMARKS.md. Usage: bench/compression-table.sh [MODEL_DIR] [VAL_DIR] [OUT_DIR] [FINETUNE_EPOCHS] [TRAIN_DIR] [THREADS]
set -euo pipefail
model=${1:-models/fer-mini-xception}
val=${2:-../shared/data/fer2013/val}
out=${3:-runs/compression}
ft=${4:-0}
train=${5:-../shared/data/fer2013/train}
threads=${6:-2}
mkdir -p "$out"
source bench/lib.sh
ftargs=()
[ "$ft" -gt 0 ] && ftargs=(--finetune-epochs "$ft" --data "$train" --val "$val" --threads "$threads")
row() { # name dir
  local dir=$1 name=$2
  local acc; acc=$(val_accuracy "$dir" "$val" none)
  local nz; nz=$(node -e "
    const m=require('./$dir/model.json'); const specs=m.weightsManifest.flatMap(g=>g.weights);
    const buf=require('fs').readFileSync('$dir/weights.bin'); let off=0,total=0,nonzero=0;
    for (const s of specs){const n=s.shape.reduce((a,b)=>a*b,1); const v=new Float32Array(buf.buffer.slice(buf.byteOffset+off,buf.byteOffset+off+4*n)); off+=4*n;
      total+=n; for (const x of v) if (x!==0) nonzero++;}
    const q=(m.userDefinedMetadata||{}).fer?.quantization; const bits=q?q.bits:32;
    console.log(total+' | '+nonzero+' | '+(nonzero*bits/8/1024).toFixed(1));")
  echo "| $name | $acc% | $nz |"
}
echo "| variant | val accuracy | parameters | non-zero | size of non-zero weights (KiB) |"
echo "|---|---|---|---|---|"
row "$model" "fp32"
for s in 0.5 0.7 0.9; do
  fer prune --model "$model" --target-sparsity $s --out "$out/prune-$s" ${ftargs[@]+"${ftargs[@]}"} --json >/dev/null 2>&1
  d="$out/prune-$s"; [ "$ft" -gt 0 ] && d="$out/prune-$s/best"
  row "$d" "$((${s#0.}0))% unstructured"
done
fer prune --model "$model" --pattern 2:4 --out "$out/prune-2of4" ${ftargs[@]+"${ftargs[@]}"} --json >/dev/null 2>&1
d="$out/prune-2of4"; [ "$ft" -gt 0 ] && d="$out/prune-2of4/best"; row "$d" "2:4"
for g in per-tensor per-channel; do
  fer quantize --model "$model" --bits 8 --granularity $g --out "$out/int8-$g" --calibration-data "$train" ${ftargs[@]+"${ftargs[@]}"} --json >/dev/null 2>&1
  row "$out/int8-$g" "int8 $g"
done
fer quantize --model "$model" --bits 4 --granularity per-channel --out "$out/int4" --calibration-data "$train" ${ftargs[@]+"${ftargs[@]}"} --json >/dev/null 2>&1
row "$out/int4" "int4 per-channel"
d="$out/prune-0.5"; [ "$ft" -gt 0 ] && d="$out/prune-0.5/best"
fer quantize --model "$d" --bits 8 --granularity per-channel --out "$out/prune-0.5-int8" --calibration-data "$train" ${ftargs[@]+"${ftargs[@]}"} --json >/dev/null 2>&1
row "$out/prune-0.5-int8" "50% + int8 per-channel"
