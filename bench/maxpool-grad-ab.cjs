/**
 * MaxPoolGrad of two builds of the native addon on mini-Xception's four max pools (3x3, stride 2, same; batch 64,
 * post-ReLU inputs so windows hold ties): time per step and bit differences between the two results.
 *   node bench/maxpool-grad-ab.cjs OLD.node NEW.node [threads]
 */
const { createRequire } = require('node:module');
const path = require('node:path');
const rq = createRequire(__filename);
const oldA = rq(path.resolve(process.argv[2])),
  newA = rq(path.resolve(process.argv[3]));
for (const a of [oldA, newA]) a.setThreads(Number(process.argv[4] ?? 1));
// mini-Xception's four max pools (3x3, stride 2, same) at batch 64
const shapes = [
  [64, 48, 48, 16],
  [64, 24, 24, 32],
  [64, 12, 12, 64],
  [64, 6, 6, 128],
];
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
const res = { old: 0, new: 0 };
for (const [n, h, w, c] of shapes) {
  const oh = Math.ceil(h / 2),
    ow = Math.ceil(w / 2);
  const pad = Math.max((oh - 1) * 2 + 3 - h, 0);
  const params = Int32Array.from([n, h, w, c, oh, ow, 3, 3, 2, 2, Math.floor(pad / 2), Math.floor(pad / 2)]);
  const x = Float32Array.from({ length: n * h * w * c }, () => Math.max(rnd(), 0)); // post-ReLU: ties
  const dy = Float32Array.from({ length: n * oh * ow * c }, rnd);
  const d1 = new Float32Array(x.length),
    d2 = new Float32Array(x.length);
  for (let r = 0; r < 6; r++) {
    for (const [k, a, d] of [
      ['old', oldA, d1],
      ['new', newA, d2],
    ]) {
      const t = performance.now();
      a.maxPoolGrad(params, dy, x, d);
      if (r > 0) res[k] += performance.now() - t;
    }
  }
  const b1 = new Uint32Array(d1.buffer),
    b2 = new Uint32Array(d2.buffer);
  let diff = 0;
  for (let i = 0; i < b1.length; i++) if (b1[i] !== b2[i]) diff++;
  console.log(`${n}x${h}x${w}x${c}: ${diff} bit differences`);
}
console.log(
  `MaxPoolGrad, 4 mini-Xception pools, per step: old ${(res.old / 5).toFixed(1)} ms, new ${(res.new / 5).toFixed(1)} ms (${(res.old / res.new).toFixed(2)}x)`,
);
