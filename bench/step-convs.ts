/**
 * How much of a native whole step is its convolutions (issue 38): in one process, alternately, the CPU ms of a native
 * step of --arch at batch 64 on one thread (bf16 convolutions unless --f32) and of the plan's Conv instructions alone,
 * in the plan's order on the arena's own buffers, through the addon's conv (the primitives tfjs's step calls too).
 *   npx tsx bench/step-convs.ts [--arch resnet18-w32] [--rounds 4] [--f32]
 * Instruction lengths below follow native/src/step.cc's run_plan (keep them in step).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { setNativeConvBf16 } from '../src/engine/native/backend.js';
import { loadNativeAddon } from '../src/engine/native/addon.js';
import { buildModel, type Arch } from '../src/model/mini-xception.js';
import { makeOptimizer } from '../src/train/setup.js';
import { NativeTrainStep } from '../src/engine/native/native-step.js';
const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'resnet18-w32' },
    rounds: { type: 'string', default: '4' },
    f32: { type: 'boolean', default: false },
  },
});
await useBackend('native', 1);
if (!values.f32 && !setNativeConvBf16(true)) throw new Error('no bf16 convolution on this CPU (use --f32)');
const addon = loadNativeAddon()!;
const model = buildModel(values.arch as Arch, { seed: 1, l2: 0.0005 });
const s = NativeTrainStep.create(model, makeOptimizer({ optimizer: 'sgd', lr: 1e-3, momentum: 0.9, nesterov: true } as never), 64);
if ('unsupported' in s) throw new Error(s.unsupported);
const xs = Float32Array.from({ length: 64 * 48 * 48 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
const ys = new Float32Array(64 * 7).fill(1 / 7);
const p = s.plan.program;
const len: Record<number, number> = {
  1: 23,
  2: 10,
  3: 12,
  4: 5,
  5: 4,
  6: 5,
  7: 15,
  8: 16,
  9: 5,
  10: 6,
  11: 5,
  12: 6,
  13: 6,
  14: 8,
  15: 7,
  16: 7,
  17: 7,
  18: 4,
  19: 10,
  20: 13,
  21: 11,
  27: 8,
  28: 5,
};
const convs: { kind: number; params: Int32Array; a: number; b: number; o: number }[] = [];
for (let pc = 0; pc < p.length; pc += len[p[pc]])
  if (p[pc] === 1) convs.push({ kind: p[pc + 1], params: p.slice(pc + 2, pc + 20), a: p[pc + 20], b: p[pc + 21], o: p[pc + 22] });
const A = s.arena;
const sizes = (c: (typeof convs)[0]) => {
  const [n, ih, iw, ic, oh, ow, oc, kh, kw] = c.params;
  const x = n * ih * iw * ic,
    w = kh * kw * ic * oc,
    y = n * oh * ow * oc;
  return c.kind === 0 ? [x, w, y] : c.kind === 1 ? [y, w, x] : [x, y, w];
};
const cpu = (f: () => void) => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
for (let k = 0; k < 2; k++) s.step(xs, ys);
const res: string[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  const step =
    cpu(() => {
      for (let k = 0; k < 3; k++) s.step(xs, ys);
    }) / 3;
  // the step's convs in its order on the arena's own buffers (its outputs overwritten: the step re-makes them)
  const inOrder = cpu(() => {
    for (const c of convs) {
      const [na, nb, no] = sizes(c);
      addon.conv(c.kind as 0, c.params, A.subarray(c.a, c.a + na), A.subarray(c.b, c.b + nb), A.subarray(c.o, c.o + no));
    }
  });
  res.push(`round ${r}: native step ${step.toFixed(1)} CPU ms; its ${convs.length} convs alone, in order ${inOrder.toFixed(1)}`);
}
console.log(
  `${values.arch}, batch 64, ${values.f32 ? 'f32' : 'bf16'}, 1 thread; load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')}`,
);
console.log(res.join('\n'));
