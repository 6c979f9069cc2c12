/**
 * The shipped ONNX files are what fer's writer makes of the shipped models today, byte for byte (fp32, fp16,
 * int8 for CPU): a refactor of the converter that changes one byte of a graph fails here. (The TensorRT
 * target is left out: it calibrates on training images the tests do not have.) When a change to the export is
 * meant, re-export with scripts/ship-model.sh and commit the files with it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { defaultOnnxFile, exportNeedsSample, exportOnnx } from '../../src/convert/export.js';
import { DEFAULT_MODEL, MODELS_DIR, SHIPPED_MODELS } from '../../src/model/default.js';
import { packageVersion } from '../../src/paths.js';

const shipped = SHIPPED_MODELS.filter((name) => existsSync(path.join(MODELS_DIR, name)));
const cases = shipped.flatMap((name) => (['fp32', 'fp16', 'int8'] as const).map((precision) => [name, precision] as const));

describe('ONNX export of the shipped models is byte-identical to the shipped files', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  it('covers the default model', () => expect(shipped).toContain(SHIPPED_MODELS[0]));
  it.each(cases)('%s %s', async (name, precision) => {
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
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
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
  it('names the file after the model and precision (int8 with its target); samples to verify, or to calibrate for TensorRT', () => {
    expect(defaultOnnxFile(DEFAULT_MODEL, 'fp16', 'cpu')).toBe('fer-mini-xception.fp16.onnx');
    expect(defaultOnnxFile(DEFAULT_MODEL, 'int8', 'tensorrt')).toBe('fer-mini-xception.int8-tensorrt.onnx');
    expect(exportNeedsSample({ verify: false, precision: 'int8', int8Target: 'cpu' })).toBe(false);
    expect(exportNeedsSample({ verify: false, precision: 'int8', int8Target: 'tensorrt' })).toBe(true);
    expect(exportNeedsSample({ verify: true, precision: 'fp32', int8Target: 'cpu' })).toBe(true);
  });
});
