/** `fer bench` without models: every shipped ONNX file, the default model's fp32 export first (the "× first" baseline). */
import { it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { defaultBenchModels } from '../../src/bench/run.js';
import { DEFAULT_MODEL, DEFAULT_ONNX, MODELS_DIR } from '../../src/model/default.js';

it('lists every shipped ONNX file once, the default fp32 first (alphabetical order put the slim fp16 there)', () => {
  const models = defaultBenchModels('onnxruntime');
  expect(models[0]).toBe(DEFAULT_ONNX);
  const shipped = readdirSync(path.join(MODELS_DIR, 'onnx')).filter((f) => f.endsWith('.onnx'));
  expect(new Set(models.map((m) => path.basename(m)))).toEqual(new Set(shipped));
  expect(models).toHaveLength(shipped.length);
  expect(defaultBenchModels('tfjs')).toEqual([DEFAULT_MODEL]);
});
