/**
 * Multiply-adds read off an ONNX graph (onnx/macs.ts, what `fer bench` reports for any .onnx) against
 * a hand count of a small graph, and against the tfjs model's own count (model/macs.ts, from the layers'
 * output shapes) for exports of the paper network, a structured-pruned one and a stride-2 stem, at fp32 and
 * int8 (whose weights sit behind Cast/Mul or DequantizeLinear).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { DataType, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/onnx/builder.js';
import { onnxMacs } from '../../src/onnx/macs.js';
import { inspectOnnx } from '../../src/onnx/inspect.js';
import { exportOnnx } from '../../src/convert/export.js';
import { buildModel } from '../../src/model/mini-xception.js';
import { modelMacs } from '../../src/model/macs.js';
import { defaultMetadata, saveModel } from '../../src/model/io.js';
import { structuredPrune } from '../../src/prune/structured.js';
import { fixtureModel } from '../fixture-model.js';
import type { tf } from '../../src/engine/tf.js';

const f32 = (n: number) => new Float32Array(n);

describe('multiply-adds of an ONNX graph', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('a small graph by hand: strided padded conv behind a Cast, pooling, a depthwise conv, global pooling, Gemm', () => {
    const nodes = [
      makeNode('Cast', ['w1.q'], ['w1'], 'cast', { to: { int: DataType.FLOAT } }),
      // 10×10 → (10 + 2 − 3) / 2 + 1 = 5×5, 4 filters over 2 channels: 25·4·2·9 = 1,800
      makeNode('Conv', ['x', 'w1'], ['c1'], 'conv1', {
        kernel_shape: { ints: [3, 3] },
        pads: { ints: [1, 1, 1, 1] },
        strides: { ints: [2, 2] },
      }),
      makeNode('Relu', ['c1'], ['r1'], 'relu'),
      // 5×5 → (5 − 3) / 2 + 1 = 2×2
      makeNode('MaxPool', ['r1'], ['p1'], 'pool', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } }),
      // depthwise, same padding: 2×2·4·1·9 = 144
      makeNode('Conv', ['p1', 'w2'], ['c2'], 'dw', {
        group: { int: 4 },
        kernel_shape: { ints: [3, 3] },
        auto_pad: { string: 'SAME_UPPER' },
      }),
      makeNode('GlobalAveragePool', ['c2'], ['g'], 'gap'),
      makeNode('Flatten', ['g'], ['flat'], 'flatten'),
      // 4 → 3: 12
      makeNode('Gemm', ['flat', 'w3'], ['y'], 'fc', { transB: { int: 1 } }),
    ];
    const inits = [
      makeTensor('w1.q', DataType.INT8, [4, 2, 3, 3], new Int8Array(72)),
      makeTensor('w2', DataType.FLOAT, [4, 1, 3, 3], f32(36)),
      makeTensor('w3', DataType.FLOAT, [3, 4], f32(12)),
    ];
    const graph = makeGraph(
      nodes,
      'g',
      [makeValueInfo('x', DataType.FLOAT, ['N', 2, 10, 10])],
      [makeValueInfo('y', DataType.FLOAT, ['N', 3])],
      inits,
    );
    const model = makeModel(graph, { opset: 13, producer: 'test', version: '0', metadata: {} });
    expect(onnxMacs(model, [10, 10])).toBe(1800 + 144 + 12);
  });

  const cases: [string, () => tf.LayersModel, string][] = [
    ['the paper network', () => buildModel('mini-xception', { seed: 1 }), 'mini-xception'],
    ['structured-pruned to half', () => structuredPrune(fixtureModel(3), { ratio: 0.5, multiple: 1 }).model, 'mini-xception'],
    ['stride-2 stem', () => buildModel('mini-xception-s2c2', { seed: 2 }), 'mini-xception-s2c2'],
  ];
  it.each(cases)("%s: fp32 and int8 exports count what the tfjs model's layers count", async (_name, make, arch) => {
    const model = make();
    const expected = modelMacs(model);
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-macs-')), 'model');
    await saveModel(model, dir, defaultMetadata(arch));
    model.dispose();
    for (const precision of ['fp32', 'int8'] as const) {
      const file = path.join(path.dirname(dir), `m.${precision}.onnx`);
      await exportOnnx(dir, file, { precision, version: '0.0.0-test', verify: false });
      expect(inspectOnnx(file).macs).toBe(expected);
    }
    expect(expected).toBeGreaterThan(100_000);
  });
});
