/**
 * One 64-image training step (SGD-Nesterov, softmax cross-entropy) of an `--arch` on fer-native with 1 thread,
 * after one untimed step, with oneDNN's verbose log on: where a step's convolution time goes, per primitive.
 * Prints oneDNN's time per propagation kind (forward, backward data, backward weights) and the slowest calls.
 *   npx tsx bench/step-profile.ts mini-xception-x4 [--bf16]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/engine/backend.js';
import { registerNativeBackend, setNativeConvBf16 } from '../src/engine/native/backend.js';
import type { Arch } from '../src/model/mini-xception.js';
import { sgdStep } from './step.js';

const [arch = 'mini-xception', flag] = process.argv.slice(2);
if (process.env.FER_STEP_CHILD) {
  registerNativeBackend(1);
  await useBackend('native', 1);
  setNativeConvBf16(flag === '--bf16');
  const { step } = sgdStep(arch as Arch);
  step();
  console.log('TIMED');
  step();
} else {
  const out = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), arch, flag ?? ''], {
    env: { ...process.env, FER_STEP_CHILD: '1', ONEDNN_VERBOSE: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const lines = out.stdout.split('\n');
  const calls = lines
    .slice(lines.indexOf('TIMED') + 1)
    .filter((l) => l.startsWith('onednn_verbose,exec'))
    .map((l) => {
      const f = l.split(',');
      return { kind: f[5], impl: f[4], shape: f[f.length - 2], ms: Number(f[f.length - 1]) };
    });
  const byKind = new Map<string, number>();
  for (const c of calls) byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + c.ms);
  const total = calls.reduce((s, c) => s + c.ms, 0);
  console.log(`${arch} ${flag === '--bf16' ? 'bf16' : 'f32'}: ${calls.length} oneDNN calls, ${total.toFixed(1)} ms`);
  for (const [k, ms] of [...byKind].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(18)} ${ms.toFixed(1)} ms`);
  for (const c of calls.sort((a, b) => b.ms - a.ms).slice(0, 8))
    console.log(`  ${c.ms.toFixed(1).padStart(7)} ms  ${c.kind} ${c.impl} ${c.shape}`);
}
