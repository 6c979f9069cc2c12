/**
 * fer compress on the fixture model and data with tiny settings: the stage's files, its choice against the rule
 * (compress/choose.ts) on the numbers it recorded, --resume skipping finished variants, and the command's flags.
 */
import { compressText } from '../../src/compress/text.js';
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { useBackend } from '../../src/engine/backend.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { compressModel, STATE_FILE, type CompressProgress } from '../../src/compress/search.js';
import { reportSections } from '../../src/report/report.js';
import { chooseVariant } from '../../src/compress/choose.js';
import { probeImagesPerSecond } from '../../src/compress/distil-arch.js';
import { loadData } from '../../src/data/dataset.js';
import { TEACHER_FILE, teacherProbs } from '../../src/train/distill.js';
import { expectClose } from '../helpers.js';
import { cli } from '../commands/cli.js';
import { runCli } from '../../src/commands/main.js';

const TRAIN_BACKEND = registerNativeBackend() ? 'native' : 'wasm';
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-compress-'));
const TINY = {
  data: path.join(FIXTURE_DATA, 'train'),
  val: path.join(FIXTURE_DATA, 'val'),
  finetuneEpochs: 0,
  reconstruct: false,
  calibrationImages: 16,
  benchIterations: 4,
  benchRounds: 2,
  benchWarmup: 1,
};

describe('compressModel', () => {
  let model: string;
  beforeAll(async () => {
    // The native engine where built: the 80% variant's allocation measures each kernel pruned alone at five levels
    // (prune/sensitivity.ts), 131 forward passes that take ~300 s on tfjs's cpu engine.
    await useBackend(TRAIN_BACKEND, 2);
    model = await saveFixtureModel(4);
  });

  it('--target size: builds the variants, chooses by the rule, writes the report and chosen/, and resumes', async () => {
    const out = path.join(tmp(), 'c');
    const events: CompressProgress[] = [];
    const r = await compressModel(
      model,
      out,
      { ...TINY, target: 'size', only: ['int8', 'prune80-int8'], sparsities: [0.8], maxDrop: 100 },
      { onVariant: (p) => events.push(p) },
    );
    expect(r.interrupted).toBe(false);
    expect(r.variants.map((v) => v.name)).toEqual(['int8', 'prune80-int8']);
    for (const v of [r.original, ...r.variants]) {
      expect(v.accuracy).toBeGreaterThanOrEqual(0);
      expect(v.balancedAccuracy).toBeGreaterThanOrEqual(0);
      expect(v.latencyMs).toBeGreaterThan(0);
      expect(v.throughput).toBeGreaterThan(0);
      expect(v.bytes).toBe(readFileSync(path.join(out, v.onnx)).length);
    }
    expect(r.original.latencyRatio).toBe(1);
    // int8 weights: about a quarter of the fp32 file; 80% zeros compress far better than the dense int8 file.
    const [int8, sparse] = r.variants;
    expect(int8.bytes).toBeLessThan(r.original.bytes * 0.4);
    expect(sparse.gzipBytes!).toBeLessThan(int8.gzipBytes! * 0.7);
    // With no accuracy budget to keep, the smallest (gzip'd) file wins: the rule applied to the recorded numbers.
    expect(r.chosen!.name).toBe(chooseVariant(r.original, r.variants, 'size', 100).chosen.name);
    expect(r.chosen!.name).toBe('prune80-int8');
    // A zero budget keeps only what loses nothing: the same rule on the same numbers.
    const strict = chooseVariant(r.original, r.variants, 'size', 0).chosen;
    expect(strict.accuracy).toBeGreaterThanOrEqual(r.original.accuracy);

    const json = JSON.parse(readFileSync(path.join(out, 'compress.json'), 'utf8'));
    expect(json.chosen.name).toBe('prune80-int8');
    expect(json.variants).toHaveLength(2);
    expect(json.options.target).toBe('size');
    expect(json.options.command).toMatch(/^fer compress --model \S+ /);
    for (const f of ['--target size', '--sparsities 0.8', '--no-reconstruct', '--only int8,prune80-int8', `--out ${out}`])
      expect(json.options.command).toContain(f);
    expect(readFileSync(path.join(out, 'pareto.md'), 'utf8')).toMatch(/\*\*prune80-int8\*\* \(chosen\)/);
    expect(readFileSync(path.join(out, 'pareto.png')).subarray(1, 4).toString()).toBe('PNG');
    // the size the choice ranks by (gzip'd) is in the table beside the file's bytes
    const row = compressText(r)
      .split('\n')
      .find((l) => l.startsWith('prune80-int8 *'))!
      .split(/\s{2,}/);
    expect(row.slice(4, 6).map(Number)).toEqual([r.variants[1].bytes, r.variants[1].gzipBytes]);
    expect(compressText(r).split('\n').at(-1)).toBe(
      `accuracy against size and speed, the Pareto front marked: ${path.join(out, 'pareto.png')}`,
    );
    for (const f of ['model/model.json', 'model-int8.onnx', 'model-fp32.onnx', 'README.md'])
      expect(existsSync(path.join(out, 'chosen', f)), f).toBe(true);
    expect(events.filter((e) => e.phase === 'done').map((e) => e.name)).toEqual(['int8', 'prune80-int8']);
    // `fer report` on the folder: the Pareto plot and every variant's row, and the chosen model's pruning.
    const sections = reportSections(out);
    const compressHtml = sections.find((x) => x.id === 'compress')!.html!;
    expect(compressHtml).toContain('<svg');
    for (const v of ['original', 'int8']) expect(compressHtml).toContain(`<td>${v}</td>`);
    expect(compressHtml).toContain('<td><b>prune80-int8</b> (chosen)');
    expect(compressHtml).toContain(`<td>${(r.original.accuracy * 100).toFixed(2)}</td>`);
    expect(sections.find((x) => x.id === 'pruning')!.html).toMatch(/overall sparsity <b>8\d\.\d%<\/b>/);

    // A data path that is not there is said before any work: no folder written (it came after the original's export).
    const nowhere = path.join(path.dirname(out), 'never-made');
    await expect(compressModel(model, nowhere, { ...TINY, data: '/no/such/data', target: 'size', only: ['int8'] })).rejects.toThrow(
      'compress: data /no/such/data: no such file or folder',
    );
    expect(existsSync(nowhere)).toBe(false);

    // A second run refuses the folder without --resume; with it, both variants are skipped, not rebuilt.
    await expect(compressModel(model, out, { ...TINY, target: 'size', only: ['int8', 'prune80-int8'], sparsities: [0.8] })).rejects.toThrow(
      /already holds a compress run/,
    );
    const again: CompressProgress[] = [];
    const stateBefore = readFileSync(path.join(out, STATE_FILE), 'utf8');
    const r2 = await compressModel(
      model,
      out,
      { ...TINY, target: 'size', only: ['int8', 'prune80-int8'], sparsities: [0.8], maxDrop: 100, resume: true },
      { onVariant: (p) => again.push(p) },
    );
    expect(again.filter((e) => e.phase === 'start')).toEqual([]);
    expect(again.filter((e) => e.phase === 'resumed').map((e) => e.name)).toEqual(['int8', 'prune80-int8']);
    expect(readFileSync(path.join(out, STATE_FILE), 'utf8')).toBe(stateBefore);
    expect(r2.variants.map((v) => v.accuracy)).toEqual(r.variants.map((v) => v.accuracy));
  }, 300_000);

  it('an interrupted run keeps the variants done; --budget-minutes skips what would not fit', async () => {
    const out = path.join(tmp(), 'c');
    let stops = 0;
    const r = await compressModel(
      model,
      out,
      { ...TINY, target: 'size', only: ['int8', 'prune50-int8'], sparsities: [0.5] },
      { shouldStop: () => ++stops > 1 }, // stop before the second variant
    );
    expect(r.interrupted).toBe(true);
    expect(r.variants.map((v) => v.name)).toEqual(['int8']);
    expect(JSON.parse(readFileSync(path.join(out, STATE_FILE), 'utf8')).done).toHaveProperty('int8');
    expect(existsSync(path.join(out, 'compress.json'))).toBe(false);

    // Resumed with a clock that says the first variant took 10 minutes and the budget is 15: nothing new starts.
    let t = 0;
    const r2 = await compressModel(
      model,
      out,
      { ...TINY, target: 'size', only: ['int8', 'prune50-int8'], sparsities: [0.5], resume: true, budgetMinutes: 0.001 },
      { now: () => (t += 1000) },
    );
    expect(r2.variants.map((v) => v.name)).toEqual(['int8']);
    expect(r2.skipped.map((s) => s.name)).toEqual(['prune50-int8']);
    expect(r2.skipped[0].reason).toMatch(/budget/);
    expect(r2.chosen).toBeDefined();
  }, 300_000);
});

describe('fer compress', () => {
  it('--help lists its flags; a bad flag exits 2', async () => {
    const h = await cli('compress', '--help');
    expect(h.code).toBe(0);
    for (const f of ['--max-drop', '--target', '--budget-minutes', '--resume', '--json']) expect(h.stdout).toContain(f);
    const bad = await cli('compress', '--data', 'x', '--val', 'y', '--out', tmp(), '--target', 'speed');
    expect(bad.code).toBe(2);
    const unknown = await cli('compress', '--no-such-flag');
    expect(unknown.code).toBe(2);
  });

  it('runs end to end with --json and prints compress.json', async () => {
    await useBackend('cpu');
    const model = await saveFixtureModel(4);
    const out = path.join(tmp(), 'c');
    const r = await cli(
      'compress',
      '--model',
      model,
      '--data',
      TINY.data,
      '--val',
      TINY.val,
      '--target',
      'latency',
      '--only',
      'slim50',
      '--finetune-epochs',
      '0',
      '--bench-iterations',
      '4',
      '--bench-rounds',
      '2',
      '--bench-warmup',
      '1',
      '--calibration-images',
      '16',
      '--out',
      out,
      '--json',
      '--backend',
      'cpu',
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.variants.map((v: { name: string }) => v.name)).toEqual(['slim50']);
    // --only slim50 leaves the distillation out (and its int8 copy, listed as not run with the reason).
    expect(j.variants.map((v: { name: string }) => v.name)).not.toContain('s2c2x2');
    expect(j.variants[0].macs ?? j.variants[0].latencyMs).toBeGreaterThan(0);
    expect(existsSync(path.join(out, 'chosen', 'README.md'))).toBe(true);
    // stderr in a log: note-shaped lines only ("fer: …"), a variant's end said once (it came twice, once without "fer:")
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(
      lines.filter((l) => !l.startsWith('fer: ') && !l.startsWith('  hint:')),
      r.stderr,
    ).toEqual([]);
    expect(
      lines.filter((l) => l.includes('built slim50')),
      r.stderr,
    ).toHaveLength(1);
  }, 300_000);
});

// The distillation trains the real 205k-parameter network: on the engine training runs on (tfjs cpu would take minutes).
describe('compressModel, --target latency: the distillation variant', () => {
  let model: string;
  beforeAll(async () => {
    await useBackend(TRAIN_BACKEND, 2);
    model = await saveFixtureModel(4);
  });

  it('--teacher: the distillation learns from those teachers (their mean probabilities), not from the model', async () => {
    const out = path.join(tmp(), 't');
    const [a, b] = [await saveFixtureModel(6), await saveFixtureModel(9)];
    const r = await compressModel(model, out, { ...TINY, target: 'latency', only: ['s2c2x2'], archEpochs: 1, teacher: [a, b] });
    expect(r.variants.map((v) => v.name)).toEqual(['s2c2x2']);
    const run = path.join(out, 'variants', 's2c2x2', 'train');
    expect(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')).options.teacher).toEqual([a, b]);
    const probs = await teacherProbs([a, b], await loadData(TINY.data, 'Training', {}), 'flip', 7);
    const buf = readFileSync(path.join(run, TEACHER_FILE));
    expectClose(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), probs, { atol: 1e-5 });
  }, 600_000);

  it('--target latency distils into the stride-2 ×2 network for --arch-epochs, re-estimates its batch norm, and resumes its run', async () => {
    const out = path.join(tmp(), 'c');
    const o = { ...TINY, target: 'latency' as const, only: ['s2c2x2'], archEpochs: 1 };
    let stops = 0;
    // Stopped inside the distillation (the first poll is the compress loop's, the next ones are its batches').
    const r = await compressModel(model, out, o, { shouldStop: () => ++stops === 2 });
    expect(r.interrupted).toBe(true);
    const run = path.join(out, 'variants', 's2c2x2', 'train');
    expect(existsSync(path.join(run, 'checkpoint'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, STATE_FILE), 'utf8')).archEpochs).toBe(1);

    const r2 = await compressModel(model, out, { ...o, resume: true });
    expect(r2.interrupted).toBe(false);
    expect(r2.variants.map((v) => v.name)).toEqual(['s2c2x2']);
    const runJson = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
    expect(runJson.options.arch).toBe('mini-xception-s2c2-x2');
    expect(runJson.options.teacher).toEqual([model]);
    expect(runJson.resumed).toHaveLength(1); // continued from the checkpoint, not started again
    const meta = JSON.parse(readFileSync(path.join(run, 'best', 'model.json'), 'utf8'));
    expect(JSON.stringify(meta)).toContain('batchNormReestimated');
    expect(r2.variants[0].latencyMs).toBeGreaterThan(0);
  }, 600_000);

  it('--budget-minutes: the distillation gets the epochs that fit, or is skipped when fewer than 5 do', async () => {
    const out = path.join(tmp(), 'c');
    const r = await compressModel(model, out, { ...TINY, target: 'latency', only: ['s2c2x2'], budgetMinutes: 0.5 });
    expect(r.variants).toEqual([]);
    expect(r.skipped.find((s) => s.name === 's2c2x2')?.reason).toMatch(/budget: fewer than 5 epochs/);
    expect(JSON.parse(readFileSync(path.join(out, STATE_FILE), 'utf8')).archEpochs).toBe(0);
  }, 300_000);

  it('the speed probe trains a few batches of the distillation and leaves nothing behind', async () => {
    const dir = path.join(tmp(), 'probe');
    const ds = await loadData(TINY.data, 'Training', {});
    const rate = await probeImagesPerSecond([model], dir, ds, 'mini-xception-s2c2-x2');
    expect(rate).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(false);
  }, 300_000);
});

describe('fer compress, interrupted', () => {
  it('Ctrl-C after a variant: exit 130, the variant kept; --resume skips it and finishes', async () => {
    await useBackend('cpu');
    const model = await saveFixtureModel(4);
    const out = path.join(tmp(), 'c');
    const argv = [
      'compress',
      '--model',
      model,
      '--data',
      TINY.data,
      '--val',
      TINY.val,
      '--target',
      'size',
      '--only',
      'int8,prune50-int8',
      '--sparsities',
      '0.5',
      '--no-reconstruct',
      '--finetune-epochs',
      '0',
      '--bench-iterations',
      '4',
      '--bench-rounds',
      '2',
      '--bench-warmup',
      '1',
      '--calibration-images',
      '16',
      '--out',
      out,
      '--backend',
      'cpu',
    ];
    let stderr = '';
    const spy = (onLine?: (s: string) => void) => {
      stderr = '';
      const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
        stderr += String(s);
        onLine?.(String(s));
        return true;
      });
      return () => (o.mockRestore(), e.mockRestore());
    };
    let restore = spy((s) => {
      if (s.includes('compress built int8')) process.emit('SIGINT');
    });
    const code = await runCli(argv).finally(restore);
    expect(code, stderr).toBe(130);
    expect(Object.keys(JSON.parse(readFileSync(path.join(out, STATE_FILE), 'utf8')).done)).toEqual(['int8']);
    expect(existsSync(path.join(out, 'compress.json'))).toBe(false);
    expect(stderr).toMatch(/--resume/);

    restore = spy();
    const again = await runCli([...argv, '--resume']).finally(restore);
    expect(again, stderr).toBe(0);
    expect(stderr).toMatch(/already done: int8/);
    expect(stderr).toMatch(/built prune50-int8/);
    expect(stderr).not.toMatch(/compress built int8/);
    expect(JSON.parse(readFileSync(path.join(out, 'compress.json'), 'utf8')).variants).toHaveLength(2);
  }, 300_000);
});

describe('compressModel, --target size: int4', () => {
  let model: string;
  beforeAll(async () => {
    await useBackend(TRAIN_BACKEND, 2);
    model = await saveFixtureModel(4);
  });

  it('--target size: int4 is fine-tuned with 4-bit weights held, exported as INT4, and smaller than int8', async () => {
    const out = path.join(tmp(), 'c4');
    const r = await compressModel(model, out, { ...TINY, target: 'size', only: ['int8', 'int4'], maxDrop: 100, optimizer: 'sgd' });
    expect(r.variants.map((v) => [v.name, v.precision])).toEqual([
      ['int8', 'int8'],
      ['int4', 'int4'],
    ]);
    const [int8, int4] = r.variants;
    expect(int4.bytes).toBeLessThan(int8.bytes * 0.7);
    expect(int4.gzipBytes!).toBeLessThan(int8.gzipBytes!);
    // The quantization-aware fine-tune ran (--finetune-epochs 0 still gives int4 one epoch) and its result is on the grid.
    const run = JSON.parse(readFileSync(path.join(out, 'variants', 'int4', 'int4-qat', 'run.json'), 'utf8'));
    expect(run.options.quantizeBits).toBe(4);
    const meta = JSON.parse(readFileSync(path.join(out, int4.model, 'model.json'), 'utf8'));
    expect(meta.userDefinedMetadata.fer.quantization.bits).toBe(4);
    expect(r.chosen!.name).toBe(chooseVariant(r.original, r.variants, 'size', 100).chosen.name);
  }, 300_000);
});
