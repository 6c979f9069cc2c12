#!/bin/bash
# Issue 38's whole-process figure: one FER2013 epoch of `fer train` as a user runs it (batch 64, 2 threads,
# default augmentation, validation on val, checkpoints), timed as a process, against PyTorch's training img/s on the
# same network (bench/torch_mini_xception.py, Debian's python3-torch, random batches: no data loading, so the
# comparison favours PyTorch), interleaved over ROUNDS rounds. Prints per round and fer build: the process seconds and
# img/s (28,709 images / process seconds), the epoch-only img/s, PyTorch's img/s, the ratios and the load.
# fer runs as the installed package runs it: the compiled JavaScript (dist/, built here first; bin/fer in a checkout
# otherwise compiles the TypeScript sources at start-up, ~1 s that no user pays). FER_DIST=0 times the sources instead.
# BINS="before=/tmp/old/bin/fer after=bin/fer" times several checkouts in turn each round (A B A B; dist/ built in each).
#   ROUNDS=2 [BINS=…] bash bench/train-vs-torch.sh
cd "$(dirname "$0")/.."
export FER_DIST=${FER_DIST:-1}
bins=${BINS:-this=bin/fer}
if [ "$FER_DIST" = 1 ]; then
  for lb in $bins; do (cd "$(dirname "${lb#*=}")/.." && npx tsc -p tsconfig.build.json); done
fi
for r in $(seq 1 ${ROUNDS:-2}); do
  torch=$(/usr/bin/python3 bench/torch_mini_xception.py --batch 64 --steps 40 --threads 2 --mode train | python3 -c "import json,sys;print(json.load(sys.stdin)['images_per_second'])")
  for lb in $bins; do
    label=${lb%%=*}; bin=${lb#*=}
    out=${TMPDIR:-/tmp}/fer-vs-torch-$r-$label; rm -rf $out
    l0=$(cut -d' ' -f1-3 /proc/loadavg)
    t0=$(date +%s.%N)
    node "$bin" train --data ../shared/data/fer2013/train --val ../shared/data/fer2013/val --epochs 1 --batch-size 64 --threads 2 --json --out $out > $out.log 2>&1
    t1=$(date +%s.%N)
    python3 - "$out" "$t0" "$t1" "$torch" "$l0" "$(cut -d' ' -f1-3 /proc/loadavg)" "$r" "$label" <<'PY'
import json, sys
out, t0, t1, torch, l0, l1, r, label = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
m = json.loads(open(out + '/metrics.jsonl').readline())
step = json.load(open(out + '/run.json')).get('trainStep')
images = 28709
proc = t1 - t0
print(f"round {r} {label}: process {proc:.1f} s ({images/proc:.0f} img/s), epoch {m['seconds']:.1f} s ({m['imagesPerSecond']:.0f} img/s), "
      f"PyTorch {torch:.0f} img/s; ratio process {images/proc/torch:.2f}x, epoch {m['imagesPerSecond']/torch:.2f}x; "
      f"trainStep={step}; load {l0} -> {l1}")
PY
  done
done
