/**
 * One training step (64 random images, SGD-Nesterov, softmax cross-entropy) of each architecture on
 * fer-native with 1 thread: what a teacher costs against the student before committing hours to it, with
 * f32 convolutions and with bf16 ones (`fer train --bf16`), in the same process.
 *   npx tsx bench/arch-step.ts [arch...]
 */
import { useBackend } from '../src/engine/backend.js';
import { registerNativeBackend, setNativeConvBf16 } from '../src/engine/native/backend.js';
import type { Arch } from '../src/model/mini-xception.js';
import { sgdStep } from './step.js';
registerNativeBackend(1);
await useBackend('native', 1);
const archs = process.argv.length > 2 ? (process.argv.slice(2) as Arch[]) : (['resnet18-w16', 'resnet18-w32', 'mini-xception'] as const);
for (const [arch, bf16] of archs.flatMap(
  (a) =>
    [
      [a, false],
      [a, true],
    ] as const,
)) {
  if (!setNativeConvBf16(bf16)) throw new Error('no bf16 convolutions on this CPU');
  const { params, step } = sgdStep(arch);
  step();
  step();
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) step();
  const dt = (performance.now() - t0) / 5;
  console.log(
    arch,
    bf16 ? 'bf16' : 'f32',
    params,
    `${dt.toFixed(0)} ms/step`,
    `${(64000 / dt).toFixed(0)} img/s`,
    `epoch ${(28709 / (64000 / dt) / 60).toFixed(1)} min`,
  );
}
