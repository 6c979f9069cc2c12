#!/bin/bash
# One FER2013 epoch of `fer train` (batch 64, 2 threads), interleaved: A = tfjs's step (FER_TRAIN_STEP=tfjs), B = the
# native whole step (issue 38). Prints whole-process wall time, the epoch's own seconds and img/s, which step ran, the
# load average before and after.   ROUNDS=2 bash bench/train-step-ab.sh
cd "$(dirname "$0")/.."
for r in $(seq 1 ${ROUNDS:-2}); do
  for side in tfjs native; do
    out=${TMPDIR:-/tmp}/fer-step-ab-ep-$side-$r; rm -rf $out
    l0=$(cut -d' ' -f1-3 /proc/loadavg)
    t0=$(date +%s.%N)
    if [ $side = tfjs ]; then env FER_TRAIN_STEP=tfjs bin/fer train --data ../shared/data/fer2013/train --val ../shared/data/fer2013/val --epochs 1 --batch-size 64 --threads 2 --json --out $out > $out.log 2>&1
    else bin/fer train --data ../shared/data/fer2013/train --val ../shared/data/fer2013/val --epochs 1 --batch-size 64 --threads 2 --json --out $out > ${TMPDIR:-/tmp}/fer-step-ab-ep-$side-$r.log 2>&1; fi
    t1=$(date +%s.%N)
    l1=$(cut -d' ' -f1-3 /proc/loadavg)
    ep=$(python3 -c "import json;m=[json.loads(l) for l in open('$out/metrics.jsonl')][0];print('epoch %.1f s, %.0f img/s, loss %.4f, val_acc %.4f'%(m['seconds'],m['imagesPerSecond'],m['loss'],m['valAcc']))")
    step=$(python3 -c "import json;print(json.load(open('$out/run.json')).get('trainStep'))")
    echo "round $r $side: process $(python3 -c "print('%.1f'%($t1-$t0))") s; $ep; trainStep=$step; load $l0 -> $l1"
  done
done
