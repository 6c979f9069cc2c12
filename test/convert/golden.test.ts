/**
 * The shipped ONNX files are what fer's writer makes of the shipped models today, byte for byte (fp32, fp16,
 * int8 for CPU): a refactor of the converter that changes one byte of a graph fails here. (The TensorRT
 * target is left out: it calibrates on training images the tests do not have.) When a change to the export is
 * meant, re-export with scripts/ship-model.sh and commit the files with it.
 *
 * The bytes must not depend on what ran before in the process either. They did: once an onnxruntime session
 * was created, an fp32 or fp16 export wrote -0 for some zero weights that a fresh process writes as +0
 * (onnx/layout.ts flushDenormals). This file runs in a process of its own (vitest.config.ts), so the first
 * exports run in a fresh process's floating-point mode and the last ones in the mode onnxruntime leaves.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { defaultOnnxFile, exportNeedsSample, exportOnnx } from '../../src/convert/export.js';
import { DEFAULT_MODEL, MODELS_DIR, SHIPPED_MODELS } from '../../src/model/default.js';
import { packageVersion } from '../../src/paths.js';
import { buildModel } from '../../src/model/mini-xception.js';
import { createSession } from '../../src/runtime/ort.js';

const shipped = SHIPPED_MODELS.filter((name) => existsSync(path.join(MODELS_DIR, name)));
const cases = shipped.flatMap((name) => (['fp32', 'fp16', 'int8'] as const).map((precision) => [name, precision] as const));

/** Exports a shipped model as the golden files were made and checks the bytes against its file. */
async function expectGolden(name: string, precision: (typeof cases)[number][1]): Promise<void> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-golden-')), `${precision}.onnx`);
  await exportOnnx(path.join(MODELS_DIR, name), file, {
    precision,
    int8Target: 'cpu',
    nchw: false,
    keepIoFloat32: true,
    verify: false,
    version: packageVersion(),
  });
  const got = readFileSync(file),
    want = readFileSync(path.join(MODELS_DIR, 'onnx', `${name}.${precision}.onnx`));
  expect(got.length, `${name} ${precision}`).toBe(want.length);
  expect(got.equals(want), `${name} ${precision}`).toBe(true);
}

/** Whether this thread stores a float32 denormal as 0 (flush-to-zero): a fresh process does not. */
const flushesDenormals = (tiny = 1e-40) => new Float32Array([tiny])[0] === 0;

describe('ONNX export of the shipped models is byte-identical to the shipped files', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  it('covers the default model', () => expect(shipped).toContain(SHIPPED_MODELS[0]));
  it.each(cases)('%s %s', expectGolden);
});

describe('the same bytes whatever ran before in the process', () => {
  it('after other models were built and an onnxruntime session turned on flush-to-zero on this thread', async () => {
    await useBackend('cpu');
    for (const arch of ['mini-xception', 'mini-xception-s2c2-x2'] as const) buildModel(arch).dispose(); // tfjs's layer-name counters move
    expect(flushesDenormals(), 'a fresh process').toBe(false);
    await (await createSession(readFileSync(path.join(MODELS_DIR, 'onnx', 'fer-mini-xception.fp32.onnx')))).release();
    // set_denormal_as_zero (runtime/ort.ts) sets flush-to-zero and denormals-are-zero on the creating thread for good.
    expect(flushesDenormals(), 'after an onnxruntime session').toBe(true);
    for (const [name, precision] of cases) await expectGolden(name, precision);
  });
});

describe('exportOnnx defaults come from its schema', () => {
  it('{ version } alone is the fp32 NHWC export', async () => {
    await useBackend('cpu');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-golden-')), 'defaults.onnx');
    const r = await exportOnnx(DEFAULT_MODEL, file, { version: packageVersion() });
    expect(r.precision).toBe('fp32');
    expect(readFileSync(file).equals(readFileSync(path.join(MODELS_DIR, 'onnx', 'fer-mini-xception.fp32.onnx')))).toBe(true);
  });
});

describe("fer export onnx's default file name and when it reads sample images", () => {
  it('names the file after the model and precision (int8 with a target other than cpu); samples to verify, or to calibrate for TensorRT', () => {
    expect(defaultOnnxFile(DEFAULT_MODEL, 'fp16', 'cpu')).toBe('fer-mini-xception.fp16.onnx');
    expect(defaultOnnxFile(DEFAULT_MODEL, 'int8', 'tensorrt')).toBe('fer-mini-xception.int8-tensorrt.onnx');
    // the CPU target as models/onnx names the shipped file (it was .int8-cpu.onnx)
    expect(defaultOnnxFile(DEFAULT_MODEL, 'int8', 'cpu')).toBe('fer-mini-xception.int8.onnx');
    expect(exportNeedsSample({ verify: false, precision: 'int8', int8Target: 'cpu' })).toBe(false);
    expect(exportNeedsSample({ verify: false, precision: 'int8', int8Target: 'tensorrt' })).toBe(true);
    expect(exportNeedsSample({ verify: true, precision: 'fp32', int8Target: 'cpu' })).toBe(true);
  });
});
