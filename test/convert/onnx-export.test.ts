/**
 * ONNX export at fp32, fp16 and int8 against independent references: onnxruntime-node vs tfjs, and
 * onnx.checker (Debian's python3-onnx) with full_check.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { exportOnnx, TOLERANCES } from '../../src/convert/onnx/export.js';
import { loadDataset } from '../../src/data/dataset.js';
import { inspectOnnx } from '../../src/convert/onnx/inspect.js';
import { DEFAULT_MODEL } from '../../src/model/default.js';
import { saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { PRECISIONS } from '../../src/convert/onnx/convert.js';
import { createSession } from '../../src/runtime/ort.js';

const PY = '/usr/bin/python3';
const hasOnnxChecker = (() => {
  try {
    execFileSync(PY, ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function onnxCheck(file: string): string {
  return execFileSync(PY, ['-c', `import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.opset_import[0].version)`, file], { encoding: 'utf8' }).trim();
}

const models: [string, () => Promise<string>][] = [['fixture model', () => saveFixtureModel(5)]];
if (existsSync(DEFAULT_MODEL)) models.push(['shipped model', async () => DEFAULT_MODEL]);

describe.each(models)('export onnx: %s', (_label, make) => {
  let modelDir: string;
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'fer-onnx-'));
  let sample: Awaited<ReturnType<typeof loadDataset>>;
  beforeAll(async () => {
    await useBackend('cpu');
    modelDir = await make();
    sample = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
  });

  const check = async (precision: (typeof PRECISIONS)[number]) => {
    const file = path.join(outDir, `${_label.replace(' ', '-')}.${precision}.onnx`);
    const r = await exportOnnx(modelDir, file, { precision, nchw: false, keepIoFloat32: true, version: '0.0.0-test', sample, verify: true });
    const v = r.verification!;
    expect(v.images).toBe(sample.size);
    expect(v.maxAbsDiff).toBeLessThanOrEqual(TOLERANCES[precision].maxAbsDiff);
    expect(v.top1Agreement).toBeGreaterThanOrEqual(TOLERANCES[precision].top1Agreement);
    if (precision === 'fp32') expect(v.maxAbsDiff).toBeLessThan(1e-4);
    const info = inspectOnnx(file);
    expect(info.metadata.classes).toContain('surprise');
    expect(Object.keys(info.opTypes)).not.toContain('BatchNormalization'); // folded
    expect(info.opTypes.Transpose ?? 0).toBe(0);
    if (precision === 'int8') expect(info.opTypes.QuantizeLinear).toBeGreaterThan(10);
    if (hasOnnxChecker) expect(Number(onnxCheck(file))).toBeGreaterThanOrEqual(13);
  };
  it.each(PRECISIONS)('%s: verified against tfjs within tolerance, and passes onnx.checker', check);

  it('int8: onnxruntime runs every quantized conv as one integer QLinearConv', async () => {
    const file = path.join(outDir, `${_label.replace(' ', '-')}.int8.onnx`);
    if (!existsSync(file)) await check('int8');
    const optimized = path.join(outDir, 'int8.optimized.onnx');
    const s = await createSession(file, { optimizedModelFile: optimized, threads: 1 });
    await s.session.release();
    const before = inspectOnnx(file).opTypes, after = inspectOnnx(optimized).opTypes;
    // Parameter count as fp32's: int8 weights and int32 biases count, scales and zero points do not.
    const fp32 = path.join(outDir, `${_label.replace(' ', '-')}.fp32.onnx`);
    if (existsSync(fp32)) expect(inspectOnnx(file).parameters).toBe(inspectOnnx(fp32).parameters);
    // All but the last conv (its output, the logits, stays float for global pooling).
    expect(after.QLinearConv).toBe(before.Conv - 1);
    expect(after.Conv ?? 0).toBe(1);
  });

  it('is deterministic: the same model exports to identical bytes', async () => {
    const a = path.join(outDir, 'a.onnx'), b = path.join(outDir, 'b.onnx');
    for (const f of [a, b]) await exportOnnx(modelDir, f, { precision: 'fp32', nchw: true, keepIoFloat32: true, version: 'x', verify: false });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });
});

it.runIf(!hasOnnxChecker)('onnx.checker is unavailable here (install python3-onnx): checker assertions skipped', () => {
  expect(hasOnnxChecker).toBe(false);
});
