/**
 * Training on fixtures with fer-native: the loss falls over two epochs, the run directory has what it
 * should, an interrupted-then-resumed run ends with exactly the weights of an uninterrupted one, and
 * distillation changes training only through its loss.
 */
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { loadDataset, type Dataset } from '../../src/data/dataset.js';
import { train, type TrainEvent } from '../../src/train/fit.js';
import { trainRun } from '../../src/train/run.js';
import { trainOptionsSchema } from '../../src/train/options.js';
import { defaultMetadata, loadModel, saveModel } from '../../src/model/io.js';
import { FIXTURE_DATA, fixtureModel, killChannels, nthLayer, saveFixtureModel } from '../fixture-model.js';

// Runs whose curves.png fails to draw (as a renderer's failure would), for the test of its note.
const failCurves = vi.hoisted(() => new Set<string>());
vi.mock('../../src/train/curves.js', async (actual) => {
  const m = await actual<typeof import('../../src/train/curves.js')>();
  return {
    ...m,
    writeCurves: (dir: string) => (failCurves.has(dir) ? Promise.reject(new Error('render failed\nat …')) : m.writeCurves(dir)),
  };
});

const hasNative = registerNativeBackend();
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-train-'));
/** A hook that must not run (trainRun's engine and data for a run with nothing left). */
const never = () => Promise.reject(new Error('loaded'));

async function weights(dir: string): Promise<Float32Array[]> {
  const { model } = await loadModel(dir);
  const w = model.getWeights().map((t) => t.dataSync() as Float32Array);
  model.dispose();
  return w;
}

describe.skipIf(!hasNative)('train (fer-native)', () => {
  let ds: Dataset, val: Dataset;
  beforeAll(async () => {
    await useBackend('native', 2);
    ds = await loadDataset(path.join(FIXTURE_DATA, 'train'), { cache: false });
    val = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
  });

  it('two epochs lower the loss and write best/, last/, checkpoint/, metrics.jsonl and curves.png', async () => {
    const out = tmp();
    const o = trainOptionsSchema.parse({ epochs: 2, batchSize: 32, lr: 0.003, l2: 0, seed: 3 });
    const r = await train(ds, val, o, { out });
    expect(r.history).toHaveLength(2);
    expect(r.history[1].loss).toBeLessThan(r.history[0].loss);
    for (const f of ['best/model.json', 'last/weights.bin', 'checkpoint/state.json', 'checkpoint/optimizer.bin', 'curves.png']) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
    }
    const lines = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
    expect(lines[0].valAcc).toBeGreaterThanOrEqual(0);
  });

  it('data smaller than --batch-size is one batch of all of it, on the native step (it was planned for the full batch: exit 1)', async () => {
    const out = tmp();
    const o = trainOptionsSchema.parse({ epochs: 1, batchSize: ds.size + 30, seed: 3 });
    const notes: string[] = [];
    const r = await train(ds, null, o, { out, onEvent: (e) => e.type === 'note' && notes.push(e.message) });
    expect(r.history).toHaveLength(1);
    expect(Number.isFinite(r.history[0].loss)).toBe(true);
    expect(notes.join('\n')).toMatch(/native whole training step/);
  });

  it('a curves.png that cannot be written is said once, and training goes on (it was swallowed)', async () => {
    const out = tmp();
    failCurves.add(out);
    const o = trainOptionsSchema.parse({ epochs: 2, batchSize: 64, seed: 3 });
    const notes: string[] = [];
    const r = await train(ds, null, o, { out, onEvent: (e) => e.type === 'note' && notes.push(e.message) });
    expect(r.history).toHaveLength(2);
    expect(notes.filter((n) => n.startsWith('curves.png not written: '))).toHaveLength(1);
  });

  it('interrupt + resume reaches the same weights as an uninterrupted run', async () => {
    const o = trainOptionsSchema.parse({ epochs: 2, batchSize: 32, lr: 0.002, seed: 11, schedule: 'cosine' });
    const straight = tmp();
    await train(ds, val, o, { out: straight });

    const broken = tmp();
    let batches = 0;
    const first = await train(ds, val, o, { out: broken, shouldStop: () => ++batches === 10 });
    expect(first.stopReason).toBe('interrupted');
    const resumed = await train(ds, val, o, { out: broken, resume: true });
    expect(resumed.stopReason).toBe('done');

    const a = await weights(path.join(straight, 'last')),
      b = await weights(path.join(broken, 'last'));
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => expect(Array.from(b[i])).toEqual(Array.from(w)));
  });

  it('lrPerStep: the rate moves within the epoch (other weights than epoch-wise), and resuming mid-epoch keeps it', async () => {
    const base = { epochs: 1, batchSize: 32, lr: 0.003, minLr: 0, seed: 5, schedule: 'cosine' };
    const epochwise = tmp(),
      straight = tmp(),
      broken = tmp();
    await train(ds, null, trainOptionsSchema.parse(base), { out: epochwise });
    const perStep = trainOptionsSchema.parse({ ...base, lrPerStep: true });
    await train(ds, null, perStep, { out: straight });
    let batches = 0;
    expect((await train(ds, null, perStep, { out: broken, shouldStop: () => ++batches === 2 })).stopReason).toBe('interrupted');
    expect((await train(ds, null, perStep, { out: broken, resume: true })).stopReason).toBe('done');
    const [wEpoch, wStep, wResumed] = await Promise.all([epochwise, straight, broken].map((d) => weights(path.join(d, 'last'))));
    expect(wStep.some((w, i) => w.some((v, j) => v !== wEpoch[i][j]))).toBe(true);
    wStep.forEach((w, i) => expect(Array.from(wResumed[i])).toEqual(Array.from(w)));
  });

  it('distillation: α = 0 trains exactly as without a teacher, α > 0 otherwise; resume needs only teacher.f32', async () => {
    const teacherDir = path.join(tmp(), 'teacher');
    cpSync(await saveFixtureModel(6), teacherDir, { recursive: true });
    const base = { epochs: 1, batchSize: 32, lr: 0.002, seed: 4, schedule: 'cosine' };
    const plain = tmp(),
      zero = tmp(),
      straight = tmp(),
      broken = tmp();
    // Distillation runs the native step as the run without a teacher does (train/native-step.ts), whose loss at
    // α = 0 is the labels' alone bit for bit.
    await train(ds, null, trainOptionsSchema.parse(base), { out: plain });
    await train(ds, null, trainOptionsSchema.parse({ ...base, teacher: [teacherDir], distillAlpha: 0 }), { out: zero });
    const distilled = trainOptionsSchema.parse({ ...base, teacher: [teacherDir], distillAlpha: 0.8, temperature: 3 });
    await train(ds, null, distilled, { out: straight });
    const [wPlain, wZero, wKd] = await Promise.all([plain, zero, straight].map((d) => weights(path.join(d, 'last'))));
    wZero.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(wPlain[i])));
    expect(wKd.some((w, i) => w.some((v, j) => v !== wPlain[i][j]))).toBe(true);

    let batches = 0;
    expect((await train(ds, null, distilled, { out: broken, shouldStop: () => ++batches === 3 })).stopReason).toBe('interrupted');
    rmSync(teacherDir, { recursive: true });
    expect((await train(ds, null, distilled, { out: broken, resume: true })).stopReason).toBe('done');
    const wResumed = await weights(path.join(broken, 'last'));
    wKd.forEach((w, i) => expect(Array.from(wResumed[i])).toEqual(Array.from(w)));
  });

  it('online teachers: without augmentation the same steps as offline targets; with it, targets of the augmented batch', async () => {
    const a = path.join(tmp(), 'a'),
      b = path.join(tmp(), 'b');
    cpSync(await saveFixtureModel(6), a, { recursive: true });
    cpSync(await saveFixtureModel(9), b, { recursive: true });
    const plain = { epochs: 1, batchSize: 32, lr: 0.01, optimizer: 'sgd', seed: 4, flip: false, rotation: 0, zoom: 0, shift: 0 };
    const kd = { ...plain, teacher: [a, b], distillAlpha: 0.8, temperature: 3, teacherTta: 'none' };
    // Two steps (the checkpoint written on interruption): further on, a max-pool tie broken by a 3e-8 difference in
    // the targets routes a gradient elsewhere, and the runs drift apart by ~1e-4 for reasons that are not the targets'.
    const twoSteps = async (o: object) => {
      const out = tmp();
      let n = 0;
      await train(ds, null, trainOptionsSchema.parse(o), { out, shouldStop: () => ++n === 2 });
      return { out, w: await weights(path.join(out, 'checkpoint', 'model')) };
    };
    const maxDiff = (x: Float32Array[], y: Float32Array[]) =>
      Math.max(...x.map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - y[i][j])))));
    const offline = await twoSteps(kd);
    const online = await twoSteps({ ...kd, teacherMode: 'online' });
    expect(existsSync(path.join(offline.out, 'teacher.f32'))).toBe(true);
    expect(existsSync(path.join(online.out, 'teacher.f32'))).toBe(false);
    // (1.7e-6 on the native step, whose loss sums in another order than tfjs's: still 60× under the gap to `plain`.)
    expect(maxDiff(online.w, offline.w)).toBeLessThan(1e-5);
    expect(maxDiff(online.w, (await twoSteps(plain)).w)).toBeGreaterThan(1e-4);
    // With flips and shifts the online targets follow the augmented images, the offline ones the plain images.
    const aug = { ...kd, flip: true, shift: 0.1 };
    expect(maxDiff((await twoSteps({ ...aug, teacherMode: 'online' })).w, (await twoSteps(aug)).w)).toBeGreaterThan(1e-4);
  });

  it("--revive-dead: the init model's dead channels are revived, reported, and trained", async () => {
    const init = path.join(tmp(), 'init');
    const m = fixtureModel(8);
    const sep7 = nthLayer(m, 'SeparableConv2D', 7);
    killChannels(sep7, [4, 9]);
    await saveModel(m, init, defaultMetadata());
    m.dispose();
    const out = tmp();
    const events: TrainEvent[] = [];
    const o = trainOptionsSchema.parse({ epochs: 1, batchSize: 32, seed: 2, init, reviveDead: true });
    await train(ds, null, o, { out, onEvent: (e) => events.push(e) });
    const start = events.find((e) => e.type === 'start');
    expect(start?.type === 'start' && start.revived?.map((r) => r.channels)).toEqual([[4, 9]]);
    const { model, meta } = await loadModel(path.join(out, 'last'));
    const pw = nthLayer(model, 'SeparableConv2D', 7).getWeights()[1].dataSync();
    for (const c of [4, 9])
      expect(
        Array.from(pw)
          .filter((_, i) => i % 128 === c)
          .some((v) => v !== 0),
      ).toBe(true);
    // The next layer's weights that read them, zero at revival, were trained.
    const pw8 = nthLayer(model, 'SeparableConv2D', 8).getWeights()[1].dataSync();
    expect(Array.from(pw8.slice(4 * 128, 5 * 128)).some((v) => v !== 0)).toBe(true);
    expect(meta.trainedWith?.reviveDead).toBe(true);
    // It records its training set's class frequencies: the prior `--prior` moves its probabilities from.
    // (as label smoothing s mixes the targets: (1 − s)·n_c/n + s/k)
    const total = ds.counts.reduce((a, b) => a + b, 0),
      s = o.labelSmoothing,
      k = ds.classes.length;
    ds.classes.forEach((c, i) => expect(meta.trainPrior?.[c]).toBeCloseTo((1 - s) * (ds.counts[i] / total) + s / k, 5));
    model.dispose();
  });

  it('resuming a run with nothing left (finished, or stopped early) returns its result without the engine or the data', async () => {
    for (const [opts, reason] of [
      [{ epochs: 2, batchSize: 64, seed: 3 }, 'done'],
      [{ epochs: 6, batchSize: 64, seed: 3, lr: 1e-6, patience: 1 }, 'early-stopping'],
    ] as const) {
      const out = tmp();
      const o = trainOptionsSchema.parse(opts);
      const first = await train(ds, val, o, { out });
      expect(first.stopReason).toBe(reason);
      const notes: string[] = [];
      const again = await trainRun(
        { outDir: out, source: { data: 'unused', valUsage: 'PublicTest' }, stored: o },
        o,
        { resume: true },
        {
          startEngine: never,
          loadData: never,
          onNote: (n) => notes.push(n),
        },
      );
      expect(again).toMatchObject({ stopReason: reason, bestEpoch: first.bestEpoch, bestValAcc: first.bestValAcc, outDir: out });
      expect(again.history.map((m) => m.epoch)).toEqual(first.history.map((m) => m.epoch));
      expect(again.history.length).toBe(reason === 'done' ? 2 : first.bestEpoch + 1);
      expect(notes).toEqual([expect.stringMatching(/nothing to resume; to train further, start a new run from .*last/)]);
    }
    // Interrupted mid-run: not finished, so resume goes on to the engine (refused here by the hook).
    const out = tmp();
    let batches = 0;
    const o = trainOptionsSchema.parse({ epochs: 2, batchSize: 32, seed: 3 });
    await train(ds, null, o, { out, shouldStop: () => ++batches === 3 });
    await expect(
      trainRun({ outDir: out, source: { data: 'unused', valUsage: 'PublicTest' }, stored: o }, o, { resume: true }, { startEngine: never }),
    ).rejects.toThrow('loaded');
  });

  it('refuses to overwrite an existing run without --resume', async () => {
    const out = tmp();
    const o = trainOptionsSchema.parse({ epochs: 1, batchSize: 64 });
    await train(ds, null, o, { out });
    await expect(train(ds, null, o, { out })).rejects.toThrow(/already holds a run/);
  });
});
