#!/usr/bin/env bash
# The recipe ablation of issue #23 (BENCHMARKS.md): each training option alone on top of one short
# fine-tuning protocol from a model (default: the shipped one), two runs at a time on one thread each, then
# each run's last weights with plain-image batch-norm statistics, evaluated on val single view and with flips.
# Usage: bench/recipe-ablation.sh [OUT_DIR] [EPOCHS] [TEACHER]   (variants: VARIANTS="base mixup …" to pick)
set -euo pipefail
out=${1:-runs/ablation}
epochs=${2:-8}
teacher=${3:-}
init=${INIT:-models/fer-mini-xception}
train=${TRAIN:-../shared/data/fer2013/train}
val=${VAL:-../shared/data/fer2013/val}
mkdir -p "$out"
source bench/lib.sh
# Every run: the shipped model's last-cycle recipe at a short cosine schedule.
base=(--init "$init" --data "$train" --val "$val" --epochs "$epochs" --schedule cosine --warmup-epochs 1 --lr 0.0005
  --min-lr 0.00001 --batch-size 64 --label-smoothing 0.1 --l2 0.001 --rotation 10 --zoom 0.1 --shift 0.1 --patience 0
  --seed 51 --threads 1)
declare -A extra=(
  [base]=''
  [sgd]='--optimizer sgd --lr 0.005'
  [mixup]='--mixup 0.2'
  [cutmix]='--cutmix 1 --mix-prob 0.5'
  [erasing]='--erasing 0.25'
  [crop]='--crop-scale 0.7'
  [ema]='--ema 0.999'
)
order=(base sgd mixup cutmix erasing crop ema)
if [ -n "$teacher" ]; then
  extra[distill]="--teacher $teacher --distill-alpha 0.7 --temperature 2"
  order+=(distill)
fi
variants=(${VARIANTS:-${order[@]}})

run() { # variant
  local v=$1 dir="$out/$1"
  [ -d "$dir/last" ] || fer train "${base[@]}" ${extra[$v]} --out "$dir" >"$dir.log" 2>&1 || fer train --resume "$dir" --threads 1 >>"$dir.log" 2>&1
  [ -d "$dir-bn" ] || fer average "$dir/last" --data "$train" --out "$dir-bn" --threads 1 >>"$dir.log" 2>&1
}
# Two at a time: the machine's two cores.
for ((i = 0; i < ${#variants[@]}; i += 2)); do
  run "${variants[i]}" &
  [ $((i + 1)) -lt ${#variants[@]} ] && run "${variants[i + 1]}" &
  wait
done

acc() { val_accuracy "$1" "$val" "$2" --threads 2; }
echo "| variant | options | last, none | last, flip | BN plain, none | BN plain, flip |"
echo "|---|---|---|---|---|---|"
for v in "${variants[@]}"; do
  echo "| $v | \`${extra[$v]}\` | $(acc "$out/$v/last" none)% | $(acc "$out/$v/last" flip)% | $(acc "$out/$v-bn" none)% | $(acc "$out/$v-bn" flip)% |"
done
