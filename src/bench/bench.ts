/**
 * Inference benchmarks: latency percentiles, throughput, the process's CPU % and memory % (the paper's
 * Table IV), peak RSS, size and parameter counts, for ONNX models on onnxruntime-node or tfjs models.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspectOnnx, type OnnxInfo, checkClassifierInput } from '../onnx/inspect.js';
import { createSession, ort, type SessionOptions } from '../runtime/ort.js';
import { inputDims, onnxProbs } from '../runtime/onnx-probs.js';
import { tf } from '../engine/tf.js';
import type { Dataset } from '../data/dataset.js';
import { top1Accuracy } from '../eval/metrics.js';
import { predictProbs } from '../eval/probs.js';
import { kernelWeights, readValues } from '../prune/weights.js';
import { loadModel, modelJsonPath } from '../model/io.js';
import { modelMacs } from '../model/macs.js';
import { prepareQuantized } from '../quantize/model.js';
import type { BenchRow } from './schema.js';
import { IMAGE_SIZE } from '../data/classes.js';

export interface BenchOptions {
  batch: number;
  warmup: number;
  iterations?: number;
  /** Seconds; overrides iterations. */
  duration?: number;
  data?: Dataset;
  session?: SessionOptions;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Times `run` and measures the process's CPU and memory while it runs. */
export async function timeLoop(run: () => Promise<void> | void, o: { warmup: number; iterations?: number; duration?: number }) {
  for (let i = 0; i < o.warmup; i++) await run();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const until = o.duration ? t0 + o.duration * 1000 : Infinity;
  const n = o.duration ? Infinity : (o.iterations ?? 50);
  for (let i = 0; i < n && performance.now() < until; i++) {
    const s = performance.now();
    await run();
    times.push(performance.now() - s);
    if (i % 10 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sorted = [...times].sort((a, b) => a - b);
  return {
    times: sorted,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    },
    wall,
    // 100% = one core busy, as `top` shows it.
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
    memPercent: (process.memoryUsage().rss / os.totalmem()) * 100,
    peakRssMb: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20,
  };
}

function randomBatch(n: number): Float32Array {
  const x = new Float32Array(n * IMAGE_SIZE * IMAGE_SIZE);
  for (let i = 0; i < x.length; i++) x[i] = Math.random() * 2 - 1;
  return x;
}

export function variantOf(file: string): string {
  const b = path
    .basename(file)
    .replace(/\.onnx$/, '')
    .replace(/^model\./, '');
  return b.includes('.') ? b.slice(b.lastIndexOf('.') + 1) : b; // name.fp32 → fp32 (a name may hold dots: s2c2-x1.5.fp32)
}

/**
 * Labels for the models of one bench run: the short variant (fp32, int8, …) where it names one model only;
 * where two different files would share it (two models' fp32 exports), their file names, else their paths.
 */
export function variantLabels(files: string[]): string[] {
  const short = files.map(variantOf);
  const names = files.map((f) => path.basename(f).replace(/\.onnx$/, ''));
  const unique = (labels: string[], i: number) => labels.filter((l, j) => l === labels[i] && files[j] !== files[i]).length === 0;
  return files.map((f, i) => (unique(short, i) ? short[i] : unique(names, i) ? names[i] : f));
}

/** `info`: the file's inspectOnnx result, when the caller has it (benchModels reads each file once). */
export async function benchOnnx(file: string, o: BenchOptions, info: OnnxInfo = inspectOnnx(file)): Promise<BenchRow> {
  checkClassifierInput(info, file); // it is fed 48×48 images (another input is exit 3, not a failed run)
  const session = await createSession(file, o.session);
  try {
    const x = randomBatch(o.batch);
    const dims = inputDims(info.layout, o.batch);
    const t = await timeLoop(async () => void (await session.run(x, dims)), o);
    let accuracy: number | null = null;
    if (o.data) {
      const probs = await onnxProbs(session, info.layout, o.data.images, o.data.size);
      accuracy = top1Accuracy(probs, o.data.labels, probs.length / o.data.size);
    }
    return {
      model: file,
      variant: variantOf(file),
      engine: 'onnxruntime',
      provider: session.provider,
      requestedProvider: session.requested,
      batch: o.batch,
      threads: o.session?.threads ?? 0,
      iterations: t.times.length,
      latencyMs: t.latencyMs,
      throughput: (o.batch * t.times.length) / (t.times.reduce((a, b) => a + b, 0) / 1000),
      cpuPercent: t.cpuPercent,
      memPercent: t.memPercent,
      peakRssMb: t.peakRssMb,
      fileBytes: statSync(file).size,
      parameters: info.parameters,
      nonzeroParameters: info.nonzero,
      macs: info.macs,
      accuracy,
    };
  } finally {
    await session.release();
  }
}

export async function benchTfjs(dir: string, backend: string, o: BenchOptions): Promise<BenchRow> {
  const { model, meta } = await loadModel(dir);
  prepareQuantized(model, meta);
  try {
    const x = tf.tensor4d(randomBatch(o.batch), [o.batch, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const t = await timeLoop(() => tf.tidy(() => void (model.predict(x) as tf.Tensor).dataSync()), o);
    x.dispose();
    let accuracy: number | null = null;
    if (o.data) {
      const probs = predictProbs(model, o.data.images, o.data.size);
      accuracy = top1Accuracy(probs, o.data.labels, probs.length / o.data.size);
    }
    const kernels = kernelWeights(model).map(readValues);
    const file = modelJsonPath(dir);
    const bytes = statSync(file).size + statSync(path.join(path.dirname(file), 'weights.bin')).size;
    return {
      model: dir,
      variant: `${path.basename(dir)} (tfjs)`,
      engine: 'tfjs',
      provider: backend,
      batch: o.batch,
      threads: 0,
      iterations: t.times.length,
      latencyMs: t.latencyMs,
      throughput: (o.batch * t.times.length) / (t.times.reduce((a, b) => a + b, 0) / 1000),
      cpuPercent: t.cpuPercent,
      memPercent: t.memPercent,
      peakRssMb: t.peakRssMb,
      fileBytes: bytes,
      parameters: model.countParams(),
      nonzeroParameters: model.countParams() - kernels.reduce((a, k) => a + k.filter((v) => v === 0).length, 0),
      macs: modelMacs(model),
      accuracy,
    };
  } finally {
    model.dispose();
  }
}

/** The machine a benchmark ran on, as bench.json records it. */
export function benchMachine() {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    ort: ort.env.versions.common ?? 'unknown',
  };
}

/**
 * Every model at every batch size, in order (one process, one run: the rows compare). Accuracy is measured
 * once per model, at the first batch size, and copied to its other rows; `onRow` sees each row as it lands.
 */
export async function benchModels(
  models: string[],
  o: Omit<BenchOptions, 'batch'> & { batch: number[]; engine: 'onnxruntime' | 'tfjs'; backend: string },
  onRow?: (row: BenchRow) => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const labels = o.engine === 'onnxruntime' ? variantLabels(models) : null;
  for (const [k, m] of models.entries()) {
    const info = o.engine === 'onnxruntime' ? inspectOnnx(m) : undefined;
    let accuracy: number | null = null;
    for (const batch of o.batch) {
      const common = {
        batch,
        warmup: o.warmup,
        iterations: o.iterations,
        duration: o.duration,
        data: batch === o.batch[0] ? o.data : undefined,
      };
      const row = o.engine === 'tfjs' ? await benchTfjs(m, o.backend, common) : await benchOnnx(m, { ...common, session: o.session }, info);
      if (labels) row.variant = labels[k];
      if (row.accuracy == null) row.accuracy = accuracy;
      accuracy = row.accuracy;
      onRow?.(row);
      rows.push(row);
    }
  }
  return rows;
}
