/**
 * Training (and inference) throughput of the mini-Xception: fer's tfjs backends and, in the same run,
 * PyTorch on CPU (Debian's python3-torch) when /usr/bin/python3 has it.
 *
 *   npx tsx bench/train-throughput.ts [--backends native-step,native,wasm,wasm-js] [--batches 32,64] [--steps 20] [--profile]
 *
 * `native-step` is fer-native with the native whole training step (engine/native/native-step.ts, what `fer train`
 * runs on fer-native since issue 38); `native` is tfjs's step on fer-native (variableGrads, then the fused
 * applyGradients). `wasm-js` is wasm with fer's JavaScript gradient kernels instead of its WebAssembly SIMD ones
 * (FER_WASM_SIMD=0), for an A/B in one run.
 *
 * Prints a Markdown table; --profile adds a per-kernel profile of one training step on the first backend listed.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { tf } from '../src/engine/tf.js';
import { useBackend, type BackendChoice } from '../src/engine/backend.js';
import { buildModel } from '../src/model/mini-xception.js';
import { applyGradients } from '../src/engine/optimizer.js';
import { variableOf } from '../src/engine/tfjs-internals.js';
import { NativeTrainStep } from '../src/engine/native/native-step.js';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'native,wasm' },
    batches: { type: 'string', default: '32,64' },
    steps: { type: 'string', default: '20' },
    profile: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
  },
});
const steps = Number(values.steps),
  threads = Number(values.threads);
const rows: string[][] = [];

/** One step as `fer train` takes it (src/train/epoch.ts): gradients, then engine/optimizer.ts's applyGradients (fused on fer-native). */
function trainStep(model: tf.LayersModel, opt: tf.Optimizer, x: tf.Tensor, y: tf.Tensor) {
  const vars = model.trainableWeights.map(variableOf);
  return () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        vars,
      );
      applyGradients(opt, grads);
    });
}

/** One step of the native executor on the same batch (inputs copied from tfjs once). */
function nativeStep(model: tf.LayersModel, opt: tf.Optimizer, x: tf.Tensor, y: tf.Tensor) {
  const exec = NativeTrainStep.create(model, opt, x.shape[0]);
  if ('unsupported' in exec) throw new Error(`native step: ${exec.unsupported}`);
  const xs = x.dataSync() as Float32Array,
    ys = y.toFloat().dataSync() as Float32Array;
  return () => void exec.step(xs, ys);
}

async function measure(name: string, backend: BackendChoice, batch: number, mode: 'train' | 'infer', n: number): Promise<number> {
  await useBackend(backend, threads);
  const model = buildModel('mini-xception', { seed: 1 });
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, 48, 48, 1]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 7, 'int32'), 7);
  const train = name === 'native-step' ? nativeStep : trainStep;
  const step = mode === 'train' ? train(model, opt, x, y) : () => tf.tidy(() => void (model.predict(x) as tf.Tensor).dataSync());
  for (let i = 0; i < 2; i++) step();
  const t = performance.now();
  for (let i = 0; i < n; i++) step();
  const ips = (batch * n) / ((performance.now() - t) / 1000);
  tf.dispose([x, y]);
  model.dispose();
  return ips;
}

/** The backend an engine name runs on; `wasm-js` turns wasm's SIMD kernels off (FER_WASM_SIMD=0). */
function engineBackend(name: string): BackendChoice {
  if (name === 'wasm-js') process.env.FER_WASM_SIMD = '0';
  else delete process.env.FER_WASM_SIMD;
  return (name === 'wasm-js' ? 'wasm' : name === 'native-step' ? 'native' : name) as BackendChoice;
}

const ENGINE_LABELS: Record<string, string> = {
  'native-step': 'fer-native, native whole step',
  native: 'fer-native, tfjs step',
  wasm: 'wasm (SIMD kernels)',
  'wasm-js': 'wasm (JavaScript kernels)',
};

for (const name of values.backends!.split(',')) {
  const b = engineBackend(name);
  for (const batch of values.batches!.split(',').map(Number)) {
    // wasm steps take ~0.1–1 s: a few are enough to time them.
    const n = b === 'native' ? steps : Math.min(steps, 4);
    const train = await measure(name, b, batch, 'train', n);
    const infer = await measure(name, b, batch, 'infer', b === 'native' ? steps * 4 : 5);
    rows.push([ENGINE_LABELS[name] ?? name, String(batch), train.toFixed(1), infer.toFixed(0)]);
    console.error(`${rows.at(-1)!.join('  ')}`);
  }
}
for (const batch of values.batches!.split(',').map(Number)) {
  try {
    const run = (mode: string) =>
      JSON.parse(
        execFileSync(
          '/usr/bin/python3',
          [
            'bench/torch_mini_xception.py',
            '--batch',
            String(batch),
            '--steps',
            String(steps * (mode === 'infer' ? 4 : 1)),
            '--threads',
            String(threads),
            '--mode',
            mode,
          ],
          { encoding: 'utf8' },
        ),
      ).images_per_second as number;
    rows.push([`pytorch (${threads} threads)`, String(batch), run('train').toFixed(1), run('infer').toFixed(0)]);
  } catch {
    rows.push(['pytorch', String(batch), 'n/a (python3-torch not installed)', '']);
  }
}
console.log('| engine | batch | train img/s | inference img/s |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

if (values.profile) {
  const first = values.backends!.split(',')[0];
  await useBackend(engineBackend(first), threads);
  const model = buildModel('mini-xception', { seed: 1 });
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([64, 48, 48, 1]);
  const y = tf.oneHot(tf.randomUniform([64], 0, 7, 'int32'), 7);
  const step = trainStep(model, opt, x, y);
  for (let i = 0; i < 3; i++) step();
  const info = await tf.profile(() => {
    step();
    return tf.scalar(0);
  });
  const agg = new Map<string, [number, number]>();
  for (const k of info.kernels) {
    const a = agg.get(k.name) ?? [0, 0];
    a[0] += k.kernelTimeMs as number;
    a[1]++;
    agg.set(k.name, a);
  }
  const total = [...agg.values()].reduce((a, v) => a + v[0], 0);
  console.log(
    `\nper-kernel profile, one ${first} step, batch 64 (${info.kernels.length} kernels, ${total.toFixed(1)} ms in kernels)\n\n| kernel | ms | calls |\n|---|---|---|`,
  );
  for (const [n, [ms, c]] of [...agg.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 15))
    console.log(`| ${n} | ${ms.toFixed(1)} | ${c} |`);
}
