/**
 * The native whole training step (engine/native/native-step.ts, issue 38) against today's tfjs step on fer-native
 * (variableGrads of trainingLoss + the L2 terms, then the fused applyGradients, as src/train/epoch.ts runs it) and
 * against itself without the BN+ReLU fusion,
 * on the same batches of 48×48 images with smoothed one-hot targets, interleaved in blocks A B C A B C … so that
 * load from other processes falls on both alike. Prints ms/step (wall and CPU), img/s, the ratio, the load average.
 *   npx tsx bench/native-step.ts [--threads 1] [--rounds 6] [--block 10] [--batch 64] [--arch mini-xception]
 *     [--optimizer adam|sgd] [--bf16] [--skip-unfused]
 * --bf16: every convolution in bf16 (both steps: fer-native's conv mode, as `fer train --bf16`); --skip-unfused: the
 * two first sides alone (the ResNet teachers: `--arch resnet18-w32 --optimizer sgd --bf16 --skip-unfused`).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { tf } from '../src/engine/tf.js';
import { useBackend } from '../src/engine/backend.js';
import { setNativeConvBf16 } from '../src/engine/native/backend.js';
import { buildModel, type Arch } from '../src/model/mini-xception.js';
import { withPenalties } from '../src/train/epoch.js';
import { trainingLoss } from '../src/train/distill.js';
import { makeOptimizer } from '../src/train/setup.js';
import { applyGradients } from '../src/engine/optimizer.js';
import { variableOf } from '../src/engine/tfjs-internals.js';
import { NativeTrainStep } from '../src/engine/native/native-step.js';
import { PLAN_OP } from '../src/engine/native/step-plan.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '6' },
    block: { type: 'string', default: '10' },
    batch: { type: 'string', default: '64' },
    arch: { type: 'string', default: 'mini-xception' },
    optimizer: { type: 'string', default: 'adam' },
    bf16: { type: 'boolean', default: false },
    'skip-unfused': { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads),
  n = Number(values.batch),
  block = Number(values.block),
  rounds = Number(values.rounds);
await useBackend('native', threads);
if (values.bf16 && !setNativeConvBf16(true)) throw new Error('--bf16: no bf16 convolution on this CPU');
const make = () => {
  const model = buildModel(values.arch as Arch, { seed: 1, l2: 0.01 });
  const opt = makeOptimizer({ optimizer: values.optimizer as 'adam' | 'sgd', lr: 1e-3, momentum: 0.9, nesterov: true });
  return { model, opt };
};

// A few distinct batches, reused in turn.
const batches = Array.from({ length: 4 }, (_unused, b) => {
  const xs = Float32Array.from({ length: n * 48 * 48 }, (_, i) => Math.sin(i * 0.37 + b) * 0.5 + 0.5);
  const ys = new Float32Array(n * 7).fill(0.1 / 7);
  for (let i = 0; i < n; i++) ys[i * 7 + ((i * 3 + b) % 7)] += 0.9;
  return { xs, ys };
});

const a = make();
const aVars = a.model.trainableWeights.map(variableOf);
function tfjsStep(k: number): number {
  const { xs, ys } = batches[k % batches.length];
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, [n, 48, 48, 1]),
      y = tf.tensor2d(ys, [n, 7]);
    const { value, grads } = tf.variableGrads(
      () => withPenalties(a.model, trainingLoss(y, a.model.apply(x, { training: true }) as tf.Tensor)),
      aVars,
    );
    applyGradients(a.opt, grads);
    return value.dataSync()[0];
  });
}
const b = make();
const exec = NativeTrainStep.create(b.model, b.opt, n);
if ('unsupported' in exec) throw new Error(`native step: ${exec.unsupported}`);
const nativeStep = (k: number) => exec.step(batches[k % batches.length].xs, batches[k % batches.length].ys).loss;
// The same executor with each ReLU as its own instructions (not fused into the batch norm before it).
const sides = [
  { name: 'tfjs on fer-native', step: tfjsStep, wall: [] as number[], cpu: [] as number[] },
  { name: 'native whole step', step: nativeStep, wall: [] as number[], cpu: [] as number[] },
];
if (!values['skip-unfused']) {
  const u = make();
  const unfused = NativeTrainStep.create(u.model, u.opt, n, { fuse: false });
  if ('unsupported' in unfused) throw new Error(`native step: ${unfused.unsupported}`);
  const unfusedStep = (k: number) => unfused.step(batches[k % batches.length].xs, batches[k % batches.length].ys).loss;
  sides.push({ name: 'native, ReLU not fused', step: unfusedStep, wall: [], cpu: [] });
}
for (const s of sides) for (let k = 0; k < 3; k++) s.step(k); // warm-up: primitives, allocator
const load0 = os.loadavg();
for (let r = 0; r < rounds; r++)
  for (const s of sides) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    for (let k = 0; k < block; k++) s.step(k);
    const c = process.cpuUsage(c0);
    s.wall.push((performance.now() - t0) / block);
    s.cpu.push((c.user + c.system) / 1000 / block);
  }
const load1 = os.loadavg();
/** The process's anonymous memory in 2 MiB pages (Linux), as the kernel counts it: whether the arenas got them. */
function hugePages(): string {
  try {
    const kb = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1];
    return kb === undefined ? 'huge pages: unknown' : `${(Number(kb) / 1024).toFixed(0)} MiB in huge pages`;
  } catch {
    return 'huge pages: unknown';
  }
}
const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
const fmt = (v: number) => v.toFixed(1);
console.log(
  `${values.arch}, batch ${n}, ${values.optimizer}, ${values.bf16 ? 'bf16' : 'f32'} convolutions, ${threads} thread(s), ${rounds} rounds × ${block} steps each side, ` +
    `arena ${((exec.plan.size * 4) / 2 ** 20).toFixed(0)} MiB, ${exec.plan.program.length} program ints; ` +
    `load average ${load0.map(fmt).join(' ')} → ${load1.map(fmt).join(' ')}; ${hugePages()}`,
);
console.log('| step | ms/step (median of blocks) | blocks min–max | CPU ms/step | img/s |\n|---|---|---|---|---|');
for (const s of sides) {
  const m = median(s.wall);
  console.log(
    `| ${s.name} | ${fmt(m)} | ${fmt(Math.min(...s.wall))}–${fmt(Math.max(...s.wall))} | ${fmt(median(s.cpu))} | ${((n * 1000) / m).toFixed(0)} |`,
  );
}
const ratios = sides[0].wall.map((w, i) => w / sides[1].wall[i]);
console.log(`speed-up per round (tfjs / native): ${ratios.map((r) => r.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(2)}×`);

// Where the native step's time goes: milliseconds per instruction kind over `block` more steps (runPlan's times).
const times = new Float64Array(64);
const tp0 = performance.now();
for (let k = 0; k < block; k++) exec.step(batches[k % batches.length].xs, batches[k % batches.length].ys, times);
const profiled = (performance.now() - tp0) / block;
const opName = Object.fromEntries(Object.entries(PLAN_OP).map(([k, v]) => [v, k]));
const kinds = [...times.entries()]
  .filter(([, t]) => t > 0)
  .map(
    ([i, t]) => [i >= 24 && i <= 26 ? `Conv ${['forward', 'backward data', 'backward weights'][i - 24]}` : opName[i], t / block] as const,
  )
  .sort((p, q) => q[1] - p[1]);
const inOps = kinds.reduce((s, [, t]) => s + t, 0);
console.log(
  `\nnative step profiled: ${fmt(profiled)} ms/step wall, ${fmt(inOps)} ms in instructions\n\n| instruction | ms/step |\n|---|---|`,
);
for (const [name, t] of kinds) console.log(`| ${name} | ${t.toFixed(2)} |`);
