/**
 * The stage functions behind fer quantize, prune, average and eval, called as a library user calls them
 * (issue 35): from the package's entry, with options by the flags' names, and without printing a line.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  useBackend,
  quantizeModel,
  pruneModelDir,
  slimModel,
  averageModels,
  evaluate,
  evaluateModel,
  loadDataset,
  loadModel,
  exportOnnx,
  inspectOnnx,
} from '../../src/index.js';
import { FIXTURE_DATA, saveFixtureModel } from '../fixture-model.js';
import { kernelWeights, readValues } from '../../src/prune/weights.js';
import { loadModel as loadLayersModel } from '../../src/model/io.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-stages-'));
const val = path.join(FIXTURE_DATA, 'val');
let model: string;
const writes = { out: vi.spyOn(process.stdout, 'write'), err: vi.spyOn(process.stderr, 'write') };

beforeAll(async () => {
  await useBackend('auto');
  model = await saveFixtureModel();
  writes.out.mockClear();
  writes.err.mockClear();
});
afterAll(() => {
  // Stages print nothing: they report through callbacks, and the CLI prints.
  expect(writes.out).not.toHaveBeenCalled();
  expect(writes.err).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('stage functions', () => {
  it('quantizeModel: 4-bit weights, calibrated on the bundled sample, saved with the quantization', async () => {
    const out = path.join(tmp, 'q4');
    const r = await quantizeModel(model, out, { bits: 4, calibrationImages: 16 });
    expect(r.interrupted).toBe(false);
    if (r.interrupted) return;
    expect(r).toMatchObject({ model: out, bits: 4, granularity: 'per-channel', calibrationImages: 16 });
    expect(r.layersCalibrated).toBeGreaterThan(0);
    const saved = await loadModel(out);
    saved.model.dispose();
    expect(saved.meta.quantization?.bits).toBe(4);
  });

  it('pruneModelDir and slimModel: the target sparsity; fewer parameters', async () => {
    const p = await pruneModelDir(model, path.join(tmp, 'p'), { targetSparsity: 0.5, scope: 'layer' });
    if (p.interrupted) throw new Error('not fine-tuned: cannot be interrupted');
    expect(p.sparsity).toBeCloseTo(0.5, 1);
    const s = await slimModel(model, path.join(tmp, 's'), { ratio: 0.5 });
    if (s.interrupted) throw new Error('not fine-tuned: cannot be interrupted');
    expect(s.parameters.after).toBeLessThan(s.parameters.before);
  });

  it("pruneModelDir's target counts the exported weights: the int8 ONNX file is at least that share zeros", async () => {
    for (const scope of ['lamp', 'layer'] as const) {
      const dir = path.join(tmp, `p-${scope}`);
      const p = await pruneModelDir(model, dir, { targetSparsity: 0.5, scope });
      if (p.interrupted) throw new Error('not fine-tuned: cannot be interrupted');
      const file = path.join(tmp, `p-${scope}.int8.onnx`);
      await exportOnnx(dir, file, { precision: 'int8', verify: false, version: 'test' });
      const info = inspectOnnx(file); // counts the file's initializers, independently of the pruner
      expect(info.parameters).toBe(p.total);
      expect(1 - info.nonzero / info.parameters).toBeGreaterThanOrEqual(0.5);
      // Folded biases are never zero, so the kernels carry a little more than the target.
      expect(p.kernelSparsity).toBeGreaterThan(0.5);
      expect(p.sparsity).toBeLessThan(0.5 + (scope === 'layer' ? 0.02 : 0.001));
    }
  });

  it("quantizeModel with a fine-tune keeps a LAMP-pruned model's zeros where the pruning put them", async () => {
    const dir = path.join(tmp, 'p-lamp');
    if (!existsSync(dir)) await pruneModelDir(model, dir, { targetSparsity: 0.5, scope: 'lamp' });
    const zeros = async (d: string) => {
      const { model: m } = await loadLayersModel(d);
      const z = kernelWeights(m).map((w) => Array.from(readValues(w), (x) => x === 0));
      m.dispose();
      return z;
    };
    const before = await zeros(dir);
    const share = (z: boolean[]) => z.filter(Boolean).length / z.length;
    // LAMP spreads the zeros unevenly: some kernel is far under the overall 50%.
    expect(Math.min(...before.map(share))).toBeLessThan(0.4);
    const out = path.join(tmp, 'p-lamp-q8');
    const r = await quantizeModel(dir, out, {
      bits: 8,
      finetuneEpochs: 1,
      data: path.join(FIXTURE_DATA, 'train'),
      calibrationImages: 16,
      distill: false,
      bnReestimate: false,
    });
    expect(r.interrupted).toBe(false);
    const after = await zeros(out);
    // Every pruned weight is still zero, and no kernel was pruned further than 8-bit rounding can zero (the old
    // fine-tune re-pruned every kernel to the overall sparsity).
    before.forEach((z, k) => {
      expect(z.every((isZero, i) => !isZero || after[k][i])).toBe(true);
      expect(share(after[k]) - share(z)).toBeLessThan(0.05);
    });
  });

  it('evaluate: the metrics evaluateModel gives, with eval.json and confusion.png written', async () => {
    const out = path.join(tmp, 'eval');
    const r = await evaluate(model, val, { tta: 'none', out });
    const ref = await evaluateModel(model, await loadDataset(val), 'none');
    expect(r.accuracy).toBe(ref.accuracy);
    expect(r.written).toEqual(['eval.json', 'confusion.png', 'calibration.png'].map((f) => path.join(out, f)));
    for (const f of r.written) expect(existsSync(f)).toBe(true);
  });

  it('averageModels: two snapshots into one model, batch norm re-estimated', async () => {
    const ds = await loadDataset(val);
    const r = await averageModels([model, path.join(tmp, 'p')], ds, path.join(tmp, 'avg'), { batchSize: 16 });
    expect(r.batchNormBatches).toBe(Math.floor(ds.size / 16));
    expect(existsSync(path.join(tmp, 'avg', 'model.json'))).toBe(true);
  });
});
