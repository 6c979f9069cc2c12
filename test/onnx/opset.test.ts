/**
 * The IR version follows from the opset as in onnx.helper's VERSION_TABLE (onnx/helper.py): each expected
 * value below is the IR version of the first onnx release that shipped that ai.onnx opset.
 */
import { describe, it, expect } from 'vitest';
import { irVersionFor, ONNX_OPSET } from '../../src/onnx/opset.js';
import { decodeModel, encodeModel, makeGraph, makeModel } from '../../src/onnx/builder.js';
import { UsageError } from '../../src/errors.js';

describe('irVersionFor', () => {
  it.each([
    [1, 3], // onnx 1.0
    [8, 3], // 1.3
    [9, 4], // 1.4.1
    [11, 6], // 1.6.0
    [12, 7], // 1.7.0
    [13, 7], // 1.8.0
    [14, 7], // 1.9.0
    [15, 8], // 1.10.0
    [18, 8], // 1.13.0
    [19, 9], // 1.14.0
    [21, 10], // 1.16.0
    [23, 11], // 1.18.0
    [24, 12], // 1.19.0
    [28, 13], // 1.23.0
  ])('opset %i needs IR %i', (opset, ir) => expect(irVersionFor(opset)).toBe(ir));

  it('fer writes opset 13, hence IR 7 (what the shipped ONNX files declare)', () => expect(irVersionFor(ONNX_OPSET)).toBe(7));

  it.each([0, 29, 13.5])('rejects opset %s as a usage error naming the range', (opset) => {
    expect(() => irVersionFor(opset)).toThrow(UsageError);
    expect(() => irVersionFor(opset)).toThrow(/unsupported opset .* from 1 to 28/);
  });
});

it('makeModel declares the IR version of the opset it imports', () => {
  const model = (opset: number) =>
    decodeModel(encodeModel(makeModel(makeGraph([], 'g', [], [], []), { opset, producer: 'fer', version: '0', metadata: {} })));
  expect(Number(model(13).irVersion)).toBe(7);
  expect(Number(model(17).irVersion)).toBe(8);
  expect(Number(model(17).opsetImport[0].version)).toBe(17);
});
