#!/bin/sh
# onnxruntime-node A/B on CPU (issue #33): the same fer code in two trees whose node_modules differ only in
# onnxruntime-node/-common/-web, measured interleaved in one run so the machine's load falls on both alike.
#   bench/ort-versions.sh OLD_TREE NEW_TREE FER2013_DIR [ROUNDS] [OUT]
# Each tree: `git archive HEAD | tar -x`, node_modules/* symlinked to the checkout's except the three
# onnxruntime packages (the old ones copied aside before the upgrade), native/build symlinked.
# Per round and tree: `fer bench` of the shipped ONNX exports (batch 1 and 64, 2 s each, --json). Once per
# tree: fer eval --tta none of the four exports of the shipped model on FER2013 PublicTest (val), and the
# golden/export tests (test/convert: each export against tfjs and onnx.checker).
set -eu
old=$1 new=$2 data=$3 rounds=${4:-3} out=${5:-/tmp/fer-ort-versions}
mkdir -p "$out"
ver() { (cd "$1" && node -e "import('onnxruntime-node').then((o) => console.log(o.env.versions.node))"); }
echo "old: $old (onnxruntime-node $(ver "$old")), new: $new (onnxruntime-node $(ver "$new")); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$rounds" ]; do
  for t in old new; do
    dir=$old
    [ "$t" = new ] && dir=$new
    (cd "$dir" && node bin/fer bench --batch 1,64 --duration 2 --json) >"$out/bench-$t-$r.json"
    echo "round $r $t: bench done (load $(cut -d' ' -f1 /proc/loadavg))"
  done
  r=$((r + 1))
done
for t in old new; do
  dir=$old
  [ "$t" = new ] && dir=$new
  for v in fp32 fp16 int8 int8-tensorrt; do
    acc=$(cd "$dir" && node bin/fer eval --model "models/onnx/fer-mini-xception.$v.onnx" --data "$data/val" --tta none --json |
      node -e "let s='';process.stdin.on('data',(d)=>(s+=d)).on('end',()=>console.log((JSON.parse(s).accuracy*100).toFixed(2)))")
    echo "$t eval $v: $acc%"
  done
  (cd "$dir" && npx vitest run test/convert 2>&1 | grep -E 'Tests |Test Files ' | sed "s/^/$t golden: /")
done
# Medians over rounds per model and batch: p50 ms and img/s, old → new.
node -e "
const fs = require('fs'), out = process.argv[1], rounds = +process.argv[2];
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const rows = {};
for (const t of ['old', 'new']) for (let r = 1; r <= rounds; r++) {
  for (const x of JSON.parse(fs.readFileSync(out + '/bench-' + t + '-' + r + '.json', 'utf8')).rows) {
    const k = x.variant + ' | ' + x.batch; (rows[k] ??= { old: [], new: [] })[t].push(x);
  }
}
console.log('| model | batch | p50 ms 1.22.0 | p50 ms 1.31.1 | img/s 1.22.0 | img/s 1.31.1 | ratio |');
console.log('|---|---|---|---|---|---|---|');
for (const [k, v] of Object.entries(rows)) {
  const p = (t) => med(v[t].map((x) => x.latencyMs.p50)), q = (t) => med(v[t].map((x) => x.throughput));
  console.log('| ' + k + ' | ' + p('old').toFixed(3) + ' | ' + p('new').toFixed(3) + ' | ' + q('old').toFixed(0) + ' | ' + q('new').toFixed(0) + ' | ' + (q('new') / q('old')).toFixed(2) + '× |');
}" "$out" "$rounds"
