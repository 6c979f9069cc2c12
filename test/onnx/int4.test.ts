/**
 * ONNX INT4 tensors as fer's writer packs them: against bytes computed by hand (onnx's packing: two values a byte,
 * the first in the low nibble, two's complement) and against onnxruntime's own reading of them (a Cast to float).
 */
import { describe, it, expect } from 'vitest';
import { DataType, encodeModel, makeGraph, makeInt4Tensor, makeModel, makeNode, makeValueInfo } from '../../src/onnx/builder.js';
import { opsetFor } from '../../src/convert/convert.js';
import { UsageError } from '../../src/errors.js';
import * as ort from 'onnxruntime-node';

describe('makeInt4Tensor', () => {
  it('packs two values a byte, low nibble first, and leaves the odd last high nibble zero', () => {
    const t = makeInt4Tensor('w', [5], Int8Array.from([1, -2, 3, -8, 7]));
    // 1 | (-2 & 15) << 4 = 0x01 | 0xE0; 3 | (-8 & 15) << 4 = 0x03 | 0x80; 7
    expect(Array.from(t.rawData!)).toEqual([0xe1, 0x83, 0x07]);
    expect(t.dataType).toBe(22);
  });

  it('refuses values outside -8..7 and a count that does not match the dims', () => {
    expect(() => makeInt4Tensor('w', [2], Int8Array.from([8, 0]))).toThrow(/outside -8\.\.7/);
    expect(() => makeInt4Tensor('w', [2, 2], Int8Array.from([1, 2, 3]))).toThrow(/need 4 values/);
  });

  it('onnxruntime reads back every value of -8..7 at both nibble positions', async () => {
    const values = Int8Array.from({ length: 33 }, (_, i) => ((i * 7) % 16) - 8);
    const scale = new Float32Array([0.25]);
    const graph = makeGraph(
      [makeNode('Cast', ['w'], ['wf'], 'cast', { to: { int: DataType.FLOAT } }), makeNode('Mul', ['wf', 'x'], ['y'], 'mul')],
      'int4',
      [makeValueInfo('x', DataType.FLOAT, [1])],
      [makeValueInfo('y', DataType.FLOAT, [33])],
      [makeInt4Tensor('w', [33], values)],
    );
    const bytes = encodeModel(makeModel(graph, { opset: opsetFor({ precision: 'int4' }), producer: 't', version: '0', metadata: {} }));
    const session = await ort.InferenceSession.create(bytes);
    const r = await session.run({ x: new ort.Tensor('float32', scale, [1]) });
    expect(Array.from(r.y.data as Float32Array)).toEqual(Array.from(values, (v) => v * 0.25));
    await session.release();
  });
});

describe('opsetFor', () => {
  it('raises int4 graphs to opset 21 and refuses an older --opset for them', () => {
    expect(opsetFor({ precision: 'int4' })).toBe(21);
    expect(opsetFor({ precision: 'fp32' })).toBe(13);
    expect(opsetFor({ precision: 'int8', opset: 17 })).toBe(17);
    expect(() => opsetFor({ precision: 'int4', opset: 17 })).toThrow(UsageError);
  });
});
