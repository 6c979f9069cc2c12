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
import { quantile } from './interleave.js';
import { kernelWeights, readValues } from '../prune/weights.js';
import { loadModel, modelJsonPath } from '../model/io.js';
import { modelMacs } from '../model/macs.js';
import { prepareQuantized } from '../quantize/model.js';
import type { BenchRow } from './schema.js';
import { DEFAULT_ROUNDS, interleave, seededRandom, summarizeRounds, type RoundOrder } from './interleave.js';
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
  return {
    /** One wall time (ms) per run, in run order (timedRow summarises them). */
    times,
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

/** One model opened for timing: a run of one batch, its accuracy, the row fields that do not depend on timing. */
interface BenchTarget {
  runner(batch: number): () => Promise<void> | void;
  accuracy(data: Dataset): Promise<number>;
  fields(batch: number): Omit<BenchRow, 'iterations' | 'latencyMs' | 'throughput' | 'cpuPercent' | 'memPercent' | 'peakRssMb' | 'accuracy'>;
  release(): Promise<void>;
}

async function openOnnx(file: string, o: SessionOptions | undefined, info: OnnxInfo): Promise<BenchTarget> {
  checkClassifierInput(info, file); // it is fed 48×48 images (another input is exit 3, not a failed run)
  // onnxruntime's default for a lone model's timing: its threads spin between runs (off everywhere else, ort.ts).
  const session = await createSession(file, { spinning: true, ...o });
  return {
    runner(batch) {
      const x = randomBatch(batch);
      const dims = inputDims(info.layout, batch);
      return async () => void (await session.run(x, dims));
    },
    async accuracy(data) {
      const probs = await onnxProbs(session, info.layout, data.images, data.size);
      return top1Accuracy(probs, data.labels, probs.length / data.size);
    },
    fields: (batch) => ({
      model: file,
      variant: variantOf(file),
      engine: 'onnxruntime',
      provider: session.provider,
      requestedProvider: session.requested,
      batch,
      threads: o?.threads ?? 0,
      fileBytes: statSync(file).size,
      parameters: info.parameters,
      nonzeroParameters: info.nonzero,
      macs: info.macs,
    }),
    release: () => session.release(),
  };
}

async function openTfjs(dir: string, backend: string): Promise<BenchTarget> {
  const { model, meta } = await loadModel(dir);
  prepareQuantized(model, meta);
  const inputs: tf.Tensor[] = [];
  const kernels = kernelWeights(model).map(readValues);
  const file = modelJsonPath(dir);
  const bytes = statSync(file).size + statSync(path.join(path.dirname(file), 'weights.bin')).size;
  return {
    runner(batch) {
      const x = tf.tensor4d(randomBatch(batch), [batch, IMAGE_SIZE, IMAGE_SIZE, 1]);
      inputs.push(x);
      return () => tf.tidy(() => void (model.predict(x) as tf.Tensor).dataSync());
    },
    async accuracy(data) {
      const probs = predictProbs(model, data.images, data.size);
      return top1Accuracy(probs, data.labels, probs.length / data.size);
    },
    fields: (batch) => ({
      model: dir,
      variant: `${path.basename(dir)} (tfjs)`,
      engine: 'tfjs',
      provider: backend,
      batch,
      threads: 0,
      fileBytes: bytes,
      parameters: model.countParams(),
      nonzeroParameters: model.countParams() - kernels.reduce((a, k) => a + k.filter((v) => v === 0).length, 0),
      macs: modelMacs(model),
    }),
    async release() {
      for (const x of inputs) x.dispose();
      model.dispose();
    },
  };
}

/** A row from a target's fields and its timed runs (ms, any order), with the process's CPU and memory. */
function timedRow(
  target: BenchTarget,
  batch: number,
  times: number[],
  t: { cpuPercent: number; memPercent: number; peakRssMb: number },
  accuracy: number | null,
): BenchRow {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    ...target.fields(batch),
    iterations: sorted.length,
    latencyMs: {
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    },
    throughput: (batch * sorted.length) / (sorted.reduce((a, b) => a + b, 0) / 1000),
    cpuPercent: t.cpuPercent,
    memPercent: t.memPercent,
    peakRssMb: t.peakRssMb,
    accuracy,
  };
}

/** One model alone at one batch size (timeLoop), and its accuracy on `o.data`. */
async function benchOne(target: BenchTarget, o: BenchOptions): Promise<BenchRow> {
  try {
    const t = await timeLoop(target.runner(o.batch), o);
    return timedRow(target, o.batch, t.times, t, o.data ? await target.accuracy(o.data) : null);
  } finally {
    await target.release();
  }
}

/** `info`: the file's inspectOnnx result, when the caller has it. */
export async function benchOnnx(file: string, o: BenchOptions, info: OnnxInfo = inspectOnnx(file)): Promise<BenchRow> {
  return benchOne(await openOnnx(file, o.session, info), o);
}

export async function benchTfjs(dir: string, backend: string, o: BenchOptions): Promise<BenchRow> {
  return benchOne(await openTfjs(dir, backend), o);
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

export interface BenchInterleavedOptions {
  /** Batch sizes; every round runs each of them for every model. */
  batch: number[];
  engine: 'onnxruntime' | 'tfjs';
  /** The tfjs backend's name (tfjs engine). */
  backend?: string;
  warmup: number;
  /** Timed runs per model and batch size in all, shared out over the rounds (default 50). */
  iterations?: number;
  /** Seconds per model and batch size in all (overrides iterations). */
  duration?: number;
  /** Rounds (default 10; with iterations, at most one per timed run; 1: each model in one block, in order). */
  rounds?: number;
  /** The model order per round (default rotate: round r starts at model r). */
  order?: RoundOrder;
  /** Seed of the `random` order (default: Math.random). */
  seed?: number;
  data?: Dataset;
  session?: SessionOptions;
  /** Called after each round (1-based), for progress. */
  onRound?: (round: number, rounds: number) => void;
}

export interface BenchInterleavedResult {
  /** Model-major (every batch size of the first model, then the next), as `fer bench` has always listed them. */
  rows: BenchRow[];
  rounds: number;
  order: RoundOrder;
  /** The model order of each round (indices into the models). */
  orders: number[][];
}

/**
 * Every model at every batch size, interleaved in rounds (src/bench/interleave.ts): all models are open at once
 * and each round times every model's batch in turn, in an order that rotates, so each row's ratio to the first
 * model (`rounds.vsFirst`) is taken round by round. Accuracy is measured once per model after the timing, at
 * the first batch size, and copied to its other rows.
 */
export async function benchInterleaved(models: string[], o: BenchInterleavedOptions): Promise<BenchInterleavedResult> {
  const labels = o.engine === 'onnxruntime' ? variantLabels(models) : null;
  const targets: BenchTarget[] = [];
  try {
    for (const m of models)
      targets.push(o.engine === 'tfjs' ? await openTfjs(m, o.backend ?? '') : await openOnnx(m, o.session, inspectOnnx(m)));
    const groups = o.batch.map((b) => targets.map((t) => ({ run: t.runner(b) })));
    const order = o.order ?? 'rotate';
    const timings = await interleave(groups, {
      rounds: o.rounds ?? DEFAULT_ROUNDS,
      warmup: o.warmup,
      iterations: o.iterations,
      duration: o.duration,
      order,
      random: o.seed == null ? undefined : seededRandom(o.seed),
      onRound: o.onRound,
    });
    const memPercent = (process.memoryUsage().rss / os.totalmem()) * 100;
    const peakRssMb = Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024) / 2 ** 20;
    const rows: BenchRow[] = [];
    for (const [k, target] of targets.entries()) {
      const accuracy = o.data ? await target.accuracy(o.data) : null;
      for (const [g, batch] of o.batch.entries()) {
        const summary = summarizeRounds(timings.times[g], batch)[k];
        const t = { cpuPercent: (timings.cpu[g][k] / timings.wall[g][k]) * 100, memPercent, peakRssMb };
        const row = timedRow(target, batch, timings.times[g][k].flat(), t, accuracy);
        if (labels) row.variant = labels[k];
        row.rounds = {
          n: summary.rounds,
          latencyP50Ms: summary.latencyP50Ms,
          throughput: summary.throughput,
          ...(summary.vsFirst ? { vsFirst: { model: labels ? labels[0] : targets[0].fields(batch).variant, ...summary.vsFirst } } : {}),
        };
        rows.push(row);
      }
    }
    return { rows, rounds: timings.orders.length, order, orders: timings.orders };
  } finally {
    for (const t of targets) await t.release();
  }
}

/** `benchInterleaved`'s rows, each passed to `onRow` (kept for callers of the earlier one-model-at-a-time API). */
export async function benchModels(
  models: string[],
  o: Omit<BenchInterleavedOptions, 'batch'> & { batch: number[] },
  onRow?: (row: BenchRow) => void,
): Promise<BenchRow[]> {
  const { rows } = await benchInterleaved(models, o);
  for (const r of rows) onRow?.(r);
  return rows;
}
