/**
 * ONNX export at fp32, fp16, int8 and int4 against independent references: onnxruntime-node vs tfjs, and
 * onnx.checker (Debian's python3-onnx) with full_check.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { exportOnnx, toleranceFor } from '../../src/convert/export.js';
import { loadDataset } from '../../src/data/dataset.js';
import { inspectOnnx } from '../../src/onnx/inspect.js';
import { DEFAULT_MODEL } from '../../src/model/default.js';
import { fixtureModel, saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { defaultMetadata } from '../../src/model/io.js';
import { onnxRecordedPrior, trainedPrior } from '../../src/data/prior.js';
import { convertToOnnx, type Int8Target, type Precision } from '../../src/convert/convert.js';
import { createSession } from '../../src/runtime/ort.js';
import { DataType, decodeModel, INT4 } from '../../src/onnx/builder.js';

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
  return execFileSync(
    PY,
    [
      '-c',
      `import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.opset_import[0].version)`,
      file,
    ],
    { encoding: 'utf8' },
  ).trim();
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

  const variants: [string, Precision, Int8Target | undefined][] = [
    ['fp32', 'fp32', undefined],
    ['fp16', 'fp16', undefined],
    ['int8 (cpu)', 'int8', 'cpu'],
    ['int8 (tensorrt)', 'int8', 'tensorrt'],
    ['int4', 'int4', undefined],
  ];
  const fileFor = (precision: Precision, target?: Int8Target) =>
    path.join(outDir, `${_label.replace(' ', '-')}.${precision}${target ? `-${target}` : ''}.onnx`);
  const check = async (precision: Precision, target?: Int8Target) => {
    const file = fileFor(precision, target);
    const r = await exportOnnx(modelDir, file, {
      precision,
      int8Target: target,
      nchw: false,
      keepIoFloat32: true,
      version: '0.0.0-test',
      sample,
      verify: true,
    });
    const v = r.verification!;
    expect(v.images).toBe(sample.size);
    expect(v.maxAbsDiff).toBeLessThanOrEqual(toleranceFor(precision, target).maxAbsDiff);
    expect(v.top1Agreement).toBeGreaterThanOrEqual(toleranceFor(precision, target).top1Agreement);
    // fp32, and int8 for CPU (float compute on the dequantized weights the reference uses too); int4 stores its
    // scales and biases in float16, so it is held to its own tolerance above.
    if (precision === 'fp32' || target === 'cpu') expect(v.maxAbsDiff).toBeLessThan(1e-4);
    const info = inspectOnnx(file);
    expect(info.metadata.classes).toContain('surprise');
    expect(Object.keys(info.opTypes)).not.toContain('BatchNormalization'); // folded
    expect(info.opTypes.Transpose ?? 0).toBe(0);
    if (target === 'tensorrt') expect(info.opTypes.QuantizeLinear).toBeGreaterThan(10);
    if (target === 'cpu' || precision === 'int4') {
      expect(info.opTypes.QuantizeLinear ?? 0).toBe(0); // activations stay float
      expect(info.opTypes.DequantizeLinear ?? 0).toBe(0);
      // one per conv's integer weights (int4: also one per float16 scale and bias tensor), folded at load
      if (precision === 'int4') expect(info.opTypes.Cast).toBeGreaterThan(2 * info.opTypes.Conv);
      else expect(info.opTypes.Cast).toBe(info.opTypes.Conv);
    }
    // Debian's onnx (1.12) predates the INT4 type (onnx 1.16): onnxruntime's reading above is int4's reference.
    if (hasOnnxChecker && precision !== 'int4') expect(Number(onnxCheck(file))).toBeGreaterThanOrEqual(13);
  };
  it.each(variants)('%s: verified against tfjs within tolerance, and passes onnx.checker where it knows the types', (_n, p, t) =>
    check(p, t),
  );

  /** The int8 export of a target (exported first if this test runs alone) and the op counts of the graph onnxruntime runs. */
  const int8AsOptimized = async (target: Int8Target) => {
    const file = fileFor('int8', target);
    if (!existsSync(file)) await check('int8', target);
    const optimized = path.join(outDir, `int8-${target}.optimized.onnx`);
    const s = await createSession(file, { optimizedModelFile: optimized, threads: 1 });
    await s.session.release();
    return { file, after: inspectOnnx(optimized).opTypes };
  };

  it('int8 (tensorrt): onnxruntime runs every quantized conv as one integer QLinearConv', async () => {
    const { file, after } = await int8AsOptimized('tensorrt');
    const before = inspectOnnx(file).opTypes;
    // Parameter count as fp32's: int8 weights and int32 biases count, scales and zero points do not.
    const fp32 = fileFor('fp32');
    if (existsSync(fp32)) expect(inspectOnnx(file).parameters).toBe(inspectOnnx(fp32).parameters);
    // All but the last conv (its output, the logits, stays float for global pooling).
    expect(after.QLinearConv).toBe(before.Conv - 1);
    expect(after.Conv ?? 0).toBe(1);
  });

  it('int8 (cpu): onnxruntime keeps float convs (no integer kernel) and the file is under 40% of fp32 (int8 weights; float biases and scales)', async () => {
    const { file, after } = await int8AsOptimized('cpu');
    expect(after.QLinearConv ?? 0).toBe(0);
    expect(after.Cast ?? 0).toBe(0); // the weights' Cast and Mul folded into float constants
    expect(after.Mul ?? 0).toBe(0);
    expect(after.Conv ?? 0).toBe(inspectOnnx(file).opTypes.Conv);
    const fp32 = fileFor('fp32');
    if (existsSync(fp32)) {
      expect(inspectOnnx(file).parameters).toBe(inspectOnnx(fp32).parameters);
      expect(readFileSync(file).length).toBeLessThan(readFileSync(fp32).length * 0.4);
      // What onnxruntime runs is fp32's graph, op for op (so never slower than fp32: the same kernels).
      const optimized = path.join(outDir, 'fp32.optimized.onnx');
      const s = await createSession(fp32, { optimizedModelFile: optimized, threads: 1 });
      await s.session.release();
      expect(after).toEqual(inspectOnnx(optimized).opTypes);
    }
  });

  it('int4: 4-bit weights two a byte, float16 scales and biases, short names, opset 21, the fp32 graph at load, and the file under 70% of int8 (cpu)', async () => {
    const file = fileFor('int4');
    if (!existsSync(file)) await check('int4');
    const bytes = readFileSync(file);
    const model = decodeModel(bytes);
    expect(Number(model.opsetImport?.[0]?.version)).toBe(21);
    const inits = model.graph?.initializer ?? [];
    const int4 = inits.filter((t) => t.dataType === INT4);
    expect(int4.length).toBe(inspectOnnx(file).opTypes.Conv);
    expect(inits.filter((t) => t.dataType === DataType.FLOAT)).toEqual([]); // scales and biases: float16
    // Short names (src/onnx/compact.ts): no node names, a letter or two per tensor but the graph's input and output.
    for (const n of model.graph?.node ?? []) {
      expect(n.name ?? '').toBe('');
      for (const t of [...(n.input ?? []), ...(n.output ?? [])])
        if (t !== 'image' && t !== 'probabilities') expect(t.length).toBeLessThanOrEqual(2);
    }
    for (const t of int4) {
      const count = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
      expect(t.rawData?.length).toBe(Math.ceil(count / 2));
    }
    const optimized = path.join(outDir, 'int4.optimized.onnx');
    const s = await createSession(file, { optimizedModelFile: optimized, threads: 1 });
    await s.session.release();
    const after = inspectOnnx(optimized).opTypes;
    expect(after.Cast ?? 0).toBe(0); // folded into float weights at load
    expect(after.Mul ?? 0).toBe(0);
    const int8 = fileFor('int8', 'cpu'),
      fp32 = fileFor('fp32');
    if (existsSync(fp32)) expect(inspectOnnx(file).parameters).toBe(inspectOnnx(fp32).parameters);
    if (existsSync(int8)) expect(bytes.length).toBeLessThan(readFileSync(int8).length * 0.7);
    // names: 'full' keeps the layer names (a larger file).
    const named = path.join(outDir, 'int4-full-names.onnx');
    await exportOnnx(modelDir, named, { precision: 'int4', names: 'full', version: '0.0.0-test', verify: false });
    expect((decodeModel(readFileSync(named)).graph?.initializer ?? []).some((t) => (t.name ?? '').endsWith('.weight.q'))).toBe(true);
    expect(readFileSync(named).length).toBeGreaterThan(bytes.length);
    // The shipped model's int4 file is at most a sixth of its fp32 one (issue 36's bar; 38,385 of 235,110 bytes).
    if (existsSync(fp32) && _label === 'shipped model') expect(bytes.length).toBeLessThanOrEqual(readFileSync(fp32).length / 6);
  });

  it('is deterministic: the same model exports to identical bytes', async () => {
    const a = path.join(outDir, 'a.onnx'),
      b = path.join(outDir, 'b.onnx');
    for (const f of [a, b])
      await exportOnnx(modelDir, f, { precision: 'fp32', nchw: true, keepIoFloat32: true, version: 'x', verify: false });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });
});

it.runIf(!hasOnnxChecker)('onnx.checker is unavailable here (install python3-onnx): checker assertions skipped', () => {
  expect(hasOnnxChecker).toBe(false);
});

describe('export onnx: the training prior', () => {
  it("carries the model's recorded class prior into the ONNX metadata, where --prior reads it", async () => {
    await useBackend('cpu');
    const m = fixtureModel(3);
    const prior = { angry: 0.1, disgust: 0.05, fear: 0.1, happy: 0.3, sad: 0.15, surprise: 0.1, neutral: 0.2 };
    const info = inspectOnnx(convertToOnnx(m, { ...defaultMetadata(), trainPrior: prior }));
    m.dispose();
    expect(onnxRecordedPrior(info.metadata)).toEqual(prior);
    expect([...trainedPrior(info.classes, onnxRecordedPrior(info.metadata))!]).toEqual(
      info.classes.map((c) => prior[c as keyof typeof prior]),
    );
  });
});
