#!/usr/bin/env bash
# Trains the shipped model (models/fer-mini-xception) with `fer train`, resuming after any interruption
# until the run is done. Usage: scripts/train-shipped.sh RUN_DIR [extra fer train flags]
set -u
run=${1:-runs/shipped}; shift || true
data=${FER_DATA:-../shared/data/fer2013}
if [ ! -f "$run/checkpoint/state.json" ]; then
  ./bin/fer train --data "$data/train" --val "$data/val" --out "$run" \
    --epochs 24 --schedule cosine --warmup-epochs 1 --lr 0.001 --min-lr 0.00001 --batch-size 64 \
    --label-smoothing 0.1 --l2 0.001 --rotation 10 --zoom 0.1 --shift 0.1 --patience 0 --seed 1 --threads 1 "$@"
fi
for attempt in 1 2 3 4 5; do
  state=$(node -e "const s=require('./$run/checkpoint/state.json'); console.log(s.epoch >= s.options.epochs ? 'done' : 'more')" 2>/dev/null || echo more)
  [ "$state" = done ] && break
  echo "train-shipped: resuming (attempt $attempt)" >&2
  ./bin/fer train --resume "$run" --threads 1
done
