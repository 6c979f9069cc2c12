/**
 * Short tensor names (src/onnx/compact.ts): distinct ids, the graph's input and output kept, and a renamed graph that
 * onnxruntime runs to the same numbers and onnx.checker (Debian's python3-onnx, where installed) accepts.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DataType, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/onnx/builder.js';
import { compactNames, shortName } from '../../src/onnx/compact.js';

const hasChecker = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** x → Mul(w) → Add(b) → Relu → y, with long names, as fer's writer names things. */
function graphParts() {
  const nodes = [
    makeNode('Mul', ['x', 'layer_one.weight'], ['layer_one.scaled'], 'Mul_0'),
    makeNode('Add', ['layer_one.scaled', 'layer_one.bias'], ['layer_one.out'], 'Add_1'),
    makeNode('Relu', ['layer_one.out'], ['y'], 'Relu_2'),
  ];
  const inits = [
    makeTensor('layer_one.weight', DataType.FLOAT, [4], Float32Array.from([0.5, -2, 3, 1])),
    makeTensor('layer_one.bias', DataType.FLOAT, [4], Float32Array.from([1, 1, -1, 0.25])),
  ];
  return { nodes, inits };
}
const encode = (p: ReturnType<typeof graphParts>) =>
  encodeModel(
    makeModel(makeGraph(p.nodes, 'g', [makeValueInfo('x', DataType.FLOAT, [4])], [makeValueInfo('y', DataType.FLOAT, [4])], p.inits), {
      opset: 13,
      producer: 't',
      version: '0',
      metadata: {},
    }),
  );
const run = async (bytes: Uint8Array) => {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, -3, 4]), [4]) });
  await s.release();
  return Array.from(r.y.data as Float32Array);
};

describe('shortName', () => {
  it('gives distinct non-empty ids, one letter for the first 52', () => {
    const ids = Array.from({ length: 5000 }, (_, k) => shortName(k));
    expect(new Set(ids).size).toBe(5000);
    expect(ids.slice(0, 52).every((s) => s.length === 1)).toBe(true);
    expect(ids[52].length).toBe(2);
    expect(ids.every((s) => /^[a-zA-Z]+$/.test(s))).toBe(true);
  });
});

describe('compactNames', () => {
  it('renames every inner tensor, keeps the input and output, drops node names; onnxruntime gives the same numbers', async () => {
    const full = graphParts(),
      short = graphParts();
    const map = compactNames(short.nodes, short.inits, new Set(['x', 'y']));
    expect([...map.keys()].sort()).toEqual(['layer_one.bias', 'layer_one.out', 'layer_one.scaled', 'layer_one.weight']);
    expect(short.nodes.map((n) => n.name)).toEqual(['', '', '']);
    expect(short.nodes[0].input).toEqual(['x', map.get('layer_one.weight')]);
    expect(short.nodes[2].output).toEqual(['y']);
    expect(short.inits.map((t) => t.name)).toEqual([map.get('layer_one.weight'), map.get('layer_one.bias')]);
    const a = encode(full),
      b = encode(short);
    expect(b.length).toBeLessThan(a.length);
    expect(await run(b)).toEqual(await run(a));
    expect(await run(a)).toEqual([1.5, 0, 0, 4.25]); // relu(x·w + b) by hand
  });

  it('never hands out a kept name', () => {
    const p = graphParts();
    // 'a' and 'b' are the first two ids: kept, they must be skipped.
    p.nodes[2].output = ['a'];
    const map = compactNames(p.nodes, p.inits, new Set(['x', 'a', 'b']));
    expect([...map.values()]).not.toContain('a');
    expect([...map.values()]).not.toContain('b');
  });

  it.runIf(hasChecker)('a compacted graph passes onnx.checker', () => {
    const p = graphParts();
    compactNames(p.nodes, p.inits, new Set(['x', 'y']));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-compact-')), 'm.onnx');
    writeFileSync(file, encode(p));
    const out = execFileSync(
      '/usr/bin/python3',
      ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', file],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('ok');
  });
});
