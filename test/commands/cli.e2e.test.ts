import { describe, it, expect, beforeAll } from 'vitest';
import { copyFileSync, mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './cli.js';
import { saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { benchResultSchema } from '../../src/bench/schema.js';
import { variantLabels } from '../../src/bench/bench.js';
import { loadModel, saveModel } from '../../src/model/io.js';
import { expectClose } from '../helpers.js';
import { loadDataset } from '../../src/data/dataset.js';
import { createSession } from '../../src/runtime/ort.js';
import { onnxProbs } from '../../src/runtime/onnx-probs.js';
import { shiftPrior, trainedPrior } from '../../src/data/prior.js';
import { CLASSES } from '../../src/data/classes.js';
import { argmaxRows, computeMetrics } from '../../src/eval/metrics.js';
import { registerNativeBackend, setNativeConvBf16 } from '../../src/engine/native/backend.js';

describe('fer CLI', () => {
  it.each([
    [['train'], /--data is required/],
    [['train', '--data', '/no/such/dir'], /no such file or folder/],
    [['train', '--data', FIXTURE_DATA + '/val', '--epochs', '0'], /invalid --epochs/],
    [['train', '--data', FIXTURE_DATA + '/val', '--schedule', 'weird'], /invalid --schedule/],
    [['eval', '--model', '/no/model', '--data', FIXTURE_DATA + '/val'], /no such file or folder/],
    [['bench', '/no/model.onnx'], /no such model/],
    [['bench', '/no/model.onnx', '--rounds', '0'], /invalid --rounds/],
    [['bench', '/no/model.onnx', '--order', 'alphabetical'], /invalid --order/],
    [['average', '--data', FIXTURE_DATA + '/val', '--out', '/tmp/x'], /missing required argument/],
    [['average', 'models/fer-mini-xception', '/no/model', '--data', FIXTURE_DATA + '/val', '--out', '/tmp/x'], /no such file or folder/],
    [
      ['train', '--data', FIXTURE_DATA + '/val', '--teacher', '/no/teacher', '--out', path.join(os.tmpdir(), `fer-kd-${process.pid}`)],
      /--teacher \/no\/teacher: no such model/,
    ],
    [['train', '--data', FIXTURE_DATA + '/val', '--distill-alpha', '2'], /invalid --distill-alpha/],
    [['train', '--data', FIXTURE_DATA + '/val', '--crop-scale', '1.5'], /invalid --crop-scale/],
    [['train', '--data', FIXTURE_DATA + '/val', '--revive-dead'], /--revive-dead needs --init/],
    [
      ['train', '--data', FIXTURE_DATA + '/val', '--bf16', '--backend', 'cpu', '--out', path.join(os.tmpdir(), `fer-bf16-${process.pid}`)],
      /--bf16 needs the native engine/,
    ],
    [['nonsense'], /unknown command/],
    [['train', '--backend', 'quantum'], /Allowed choices/],
  ])('bad input %j → one-line error, exit code 2', async (argv, msg) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    // One line: the engine's "backend …" note is held until the command says something else, so it never precedes a refusal.
    const [first, ...rest] = r.stderr.trim().split('\n');
    expect(first).toMatch(/^(fer: |error: )/);
    expect(rest.filter((l) => !l.startsWith('  hint: '))).toEqual([]);
  });

  it('says which engine runs once the command gets going', async () => {
    const r = await cli('eval', '--data', FIXTURE_DATA + '/val', '--backend', 'cpu', '--tta', 'none');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toMatch(/^fer: backend cpu, \d+ threads?$/);
  });
});

describe('eval, export and bench on the fixture model', () => {
  let model: string, onnxFile: string;
  const out = mkdtempSync(path.join(os.tmpdir(), 'fer-cli-'));
  beforeAll(async () => {
    model = await saveFixtureModel(9);
    onnxFile = path.join(out, 'fixture.fp32.onnx');
    const r = await cli('export', 'onnx', '--model', model, '--out', onnxFile, '--data', FIXTURE_DATA + '/val', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
  });

  it('average writes a loadable model whose weights are the mean (batch norm re-estimated)', async () => {
    const other = await saveFixtureModel(4);
    const dir = path.join(out, 'averaged');
    const r = await cli(
      'average',
      model,
      other,
      '--data',
      FIXTURE_DATA + '/train',
      '--batch-size',
      '16',
      '--out',
      dir,
      '--backend',
      'cpu',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out: dir, batchNormBatches: expect.any(Number) });
    const [a, b, avg] = await Promise.all([model, other, dir].map((m) => loadModel(m)));
    const ws = [a, b, avg].map((m) => m.model.getWeights());
    const kernel = ws[0].findIndex((t) => t.rank === 4);
    const [ka, kb, kavg] = ws.map((w) => w[kernel].dataSync());
    expectClose(
      kavg,
      ka.map((v, i) => (v + kb[i]) / 2),
      { atol: 1e-6 },
    );
    expect(avg.meta.averagedFrom).toEqual([model, other]);
    // Batch-norm statistics were re-estimated: neither snapshot's, nor their mean.
    const bn = avg.model.layers.findIndex((l) => l.getClassName() === 'BatchNormalization');
    const mean = (m: typeof a) => m.model.layers[bn].getWeights()[2].dataSync();
    const [ma, mb, mavg] = [a, b, avg].map(mean);
    expect(Math.abs(mavg[0] - (ma[0] + mb[0]) / 2)).toBeGreaterThan(1e-3);
    [a, b, avg].forEach((m) => m.model.dispose());
  });

  it.skipIf(!(registerNativeBackend() && setNativeConvBf16(false)))(
    'train --bf16 trains with bf16 convolutions and says so in run.json',
    async () => {
      const run = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-bf16-')), 'run');
      const r = await cli(
        'train',
        '--data',
        FIXTURE_DATA + '/val',
        '--epochs',
        '1',
        '--batch-size',
        '35',
        '--bf16',
        '--out',
        run,
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const bf16 = setNativeConvBf16(true);
      setNativeConvBf16(false);
      expect(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')).convolutions).toBe(bf16 ? 'bf16' : 'f32');
      expect(Number.isFinite(JSON.parse(r.stdout.trim().split('\n').at(-1)!).loss)).toBe(true);
    },
  );

  it('eval prints accuracy and per-class metrics and writes confusion.png', async () => {
    const r = await cli('eval', '--model', model, '--data', FIXTURE_DATA + '/val', '--backend', 'cpu', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accuracy \d+\.\d\d%/);
    expect(r.stdout).toContain('surprise');
    expect(existsSync(path.join(out, 'confusion.png'))).toBe(true);
    const j = await cli('eval', '--model', onnxFile, '--data', FIXTURE_DATA + '/val', '--json');
    const parsed = JSON.parse(j.stdout);
    expect(parsed.n).toBe(70);
    expect(parsed.skipped).toBe(0); // unreadable images are counted here, as the text output's "N skipped"
    expect(parsed.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(70);
    const present = parsed.perClass.filter((c: { support: number }) => c.support > 0);
    expect(parsed.balancedAccuracy).toBeCloseTo(present.reduce((a: number, c: { recall: number }) => a + c.recall, 0) / present.length, 9);
    expect(parsed.calibration.ece).toBeGreaterThanOrEqual(0);
    expect(parsed.calibration.bins.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(70);
    expect(existsSync(path.join(out, 'calibration.png'))).toBe(true);
  });

  it('eval --prior moves the probabilities to the prior and reports the accuracy expected at it', async () => {
    const recall = (r: { perClass: { name: string; recall: number }[] }, c: string) => r.perClass.find((x) => x.name === c)!.recall;
    const train = JSON.parse((await cli('eval', '--model', onnxFile, '--data', FIXTURE_DATA + '/val', '--tta', 'none', '--json')).stdout);
    const u = await cli('eval', '--model', onnxFile, '--data', FIXTURE_DATA + '/val', '--tta', 'none', '--prior', 'uniform', '--json');
    expect(u.code, u.stderr).toBe(0);
    const uniform = JSON.parse(u.stdout);
    // At a uniform prior the expected accuracy is the mean recall; the fixture model records no prior, so it is
    // taken at FER2013 Training's: disgust's probabilities are multiplied the most and happy's the least, so
    // disgust's recall cannot fall and happy's cannot rise.
    expect(train.prior).toBeUndefined();
    expect(uniform.prior.accuracy).toBeCloseTo(uniform.balancedAccuracy, 9);
    expect(recall(uniform, 'disgust')).toBeGreaterThanOrEqual(recall(train, 'disgust'));
    expect(recall(uniform, 'happy')).toBeLessThanOrEqual(recall(train, 'happy'));
    // and its confusion matrix is that of the raw probabilities moved by Bayes' rule, computed here apart
    const ds = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
    const s = await createSession(onnxFile);
    const probs = await onnxProbs(s, 'NHWC', ds.images, ds.size, 'none');
    await s.release();
    const moved = shiftPrior(probs, 7, trainedPrior(CLASSES)!, new Float64Array(7).fill(1 / 7));
    expect(uniform.confusion).toEqual(computeMetrics(ds.labels, argmaxRows(moved, 7), CLASSES).confusion);
    const bad = await cli('eval', '--model', onnxFile, '--data', FIXTURE_DATA + '/val', '--prior', 'happy=1.5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^fer: --prior: the named classes already sum to 1.5/);
  });

  it('bench --json gives every field with sane values, valid against its schema', async () => {
    const r = await cli(
      'bench',
      onnxFile,
      '--batch',
      '1,4',
      '--iterations',
      '5',
      '--warmup',
      '1',
      '--json',
      '--data',
      FIXTURE_DATA + '/val',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    const res = benchResultSchema.parse(JSON.parse(r.stdout));
    expect(res.rows.map((x) => x.batch)).toEqual([1, 4]);
    for (const row of res.rows) {
      expect(row.latencyMs.p50).toBeGreaterThan(0);
      expect(row.latencyMs.p99).toBeGreaterThanOrEqual(row.latencyMs.p50);
      expect(row.throughput).toBeGreaterThan(0);
      expect(row.parameters).toBeGreaterThan(50_000);
      expect(row.macs).toBe(5_520_448); // the paper network's multiply-adds (hand count: test/prune/structured.e2e.test.ts)
      expect(row.accuracy).not.toBeNull();
    }
    expect(existsSync(path.join(out, 'bench.png'))).toBe(true);
  });

  it('bench --rounds interleaves the models: rotated orders, per-round spread, per-round ratios to the first model', async () => {
    const other = path.join(out, 'other.fp32.onnx');
    copyFileSync(onnxFile, other);
    const r = await cli('bench', onnxFile, other, '--batch', '1,2', '--iterations', '6', '--rounds', '3', '--warmup', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const res = benchResultSchema.parse(JSON.parse(r.stdout));
    expect(res.interleave).toEqual({
      rounds: 3,
      order: 'rotate',
      orders: [
        [0, 1],
        [1, 0],
        [0, 1],
      ],
    });
    expect(res.rows.map((x) => [x.variant, x.batch])).toEqual([
      ['fixture.fp32', 1],
      ['fixture.fp32', 2],
      ['other.fp32', 1],
      ['other.fp32', 2],
    ]);
    for (const row of res.rows) {
      expect(row.iterations).toBe(6); // --iterations is the total per model and batch size, shared out over the rounds
      const p50 = row.rounds!.latencyP50Ms;
      expect(row.rounds!.n).toBe(3);
      expect(p50.min).toBeLessThanOrEqual(p50.p25);
      expect(p50.p25).toBeLessThanOrEqual(p50.median);
      expect(p50.median).toBeLessThanOrEqual(p50.p75);
      expect(p50.p75).toBeLessThanOrEqual(p50.max);
    }
    expect(res.rows[0].rounds!.vsFirst).toBeUndefined();
    expect(res.rows[2].rounds!.vsFirst!.model).toBe('fixture.fp32');
    expect(res.rows[3].rounds!.vsFirst!.throughput.median).toBeGreaterThan(0);

    const t = await cli('bench', onnxFile, other, '--batch', '1', '--iterations', '4', '--rounds', '2', '--order', 'random', '--seed', '3');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/p50 × first \(IQR\)/);
    expect(t.stdout).toMatch(/2 interleaved rounds \(random order\)/);
    // in a log: the first round's line with its ETA, not a line a round
    expect(t.stderr).toMatch(/round 1\/2/);
    expect(t.stderr).not.toMatch(/round 2\/2/);
    const one = await cli('bench', onnxFile, '--batch', '1', '--iterations', '3', '--rounds', '1', '--json'); // the old one-block run
    expect(benchResultSchema.parse(JSON.parse(one.stdout)).rows[0].rounds!.n).toBe(1);
  });

  it("bench --out RUN without models benchmarks the run's own model, not the shipped one", async () => {
    const run = mkdtempSync(path.join(os.tmpdir(), 'fer-benchrun-'));
    writeFileSync(path.join(run, 'run.json'), JSON.stringify({ generatedBy: 'fer', command: 'fer train', options: {} })); // a run in fer's format
    const { model: m, meta } = await loadModel(await saveFixtureModel(7));
    await saveModel(m, path.join(run, 'last'), meta);
    const r = await cli('bench', '--out', run, '--batch', '1', '--iterations', '2', '--warmup', '1', '--json', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const res = benchResultSchema.parse(JSON.parse(r.stdout));
    expect(res.rows.map((x) => x.model)).toEqual([path.join(run, 'last')]);
    expect(existsSync(path.join(run, 'bench.json'))).toBe(true);
  });

  it("bench labels two models' fp32 exports apart (file names where the short variant would collide)", () => {
    expect(variantLabels(['m/fer-mini-xception.fp32.onnx', 'm/fer-mini-xception.int8.onnx'])).toEqual(['fp32', 'int8']);
    expect(variantLabels(['a/base.fp32.onnx', 'b/slim.fp32.onnx', 'b/slim.int8.onnx'])).toEqual(['base.fp32', 'slim.fp32', 'int8']);
    expect(variantLabels(['a/x.fp32.onnx', 'b/x.fp32.onnx'])).toEqual(['a/x.fp32.onnx', 'b/x.fp32.onnx']);
    expect(variantLabels(['a/x.fp32.onnx', 'a/x.fp32.onnx'])).toEqual(['fp32', 'fp32']); // the same file twice
    expect(variantLabels(['a/s2c2-x1.5.fp32.onnx', 'a/s2c2-x1.5.int8.onnx'])).toEqual(['fp32', 'int8']); // dots in the name
  });

  it('a missing provider is a one-line error (exit 2); --fallback runs on cpu', async () => {
    const r = await cli('bench', onnxFile, '--provider', 'tensorrt', '--iterations', '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/execution provider "tensorrt" is not available/);
    const f = await cli('bench', onnxFile, '--provider', 'cuda', '--fallback', '--iterations', '2', '--batch', '1', '--json');
    expect(f.code, f.stderr).toBe(0);
    const res = benchResultSchema.parse(JSON.parse(f.stdout));
    expect(res.rows[0].provider).toBe('cpu');
    expect(res.notes.join()).toMatch(/falling back to cpu/);
  });
});
