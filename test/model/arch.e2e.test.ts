/**
 * The `--arch` variants: the stride-2 stem variants keep the paper's 58,423 parameters and shrink every later
 * layer's activations; a trained mini-xception's weights transplant into them whole, and into a head of
 * another size all but the head. Their ONNX export matches tfjs as the paper's network's does.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { ARCHS, buildModel } from '../../src/model/mini-xception.js';
import { defaultMetadata, saveModel } from '../../src/model/io.js';
import { headLayer, transplantHead, transplantWeights } from '../../src/model/transplant.js';
import { exportOnnx } from '../../src/convert/export.js';
import { loadDataset } from '../../src/data/dataset.js';
import { fixtureModel, FIXTURE_DATA } from '../fixture-model.js';

const spatial = (m: tf.LayersModel, cls: string, n: number) =>
  (m.layers.filter((l) => l.getClassName() === cls)[n - 1].output as tf.SymbolicTensor).shape.slice(1, 3);

describe('architectures', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('lists the paper network, its 2× and 4× widths, the stride-2 stems and pool, the wide stride-2 stems, the teachers', () => {
    expect(ARCHS).toEqual([
      'mini-xception',
      'mini-xception-x2',
      'mini-xception-x4',
      'mini-xception-s2c1',
      'mini-xception-s2c2',
      'mini-xception-s2p',
      'mini-xception-s2c2-x2',
      'mini-xception-s2c1-x2',
      'mini-xception-s2c2-x3',
      'mini-xception-s2c2-x4',
      'mini-xception-s2c2-x2x3',
      'resnet18-w32',
      'resnet18-w16',
    ]);
  });

  it.each([
    [16, 7],
    [32, 7],
    [16, 3],
  ])('resnet18 teacher, base %i, %i classes: parameters by hand, 3×3 before pooling, dense head', (b, k) => {
    // stem conv + BN(4 vectors); per stage: block 0 (two 3×3 convs, a strided 1×1 shortcut, three BNs),
    // block 1 (two 3×3 convs, two BNs); dense head with bias.
    let count = 9 * b + 4 * b;
    for (let s = 0; s < 4; s++) {
      const f = b * 2 ** s,
        cin = s === 0 ? b : f / 2;
      count += 9 * cin * f + 9 * f * f + cin * f + 3 * 4 * f;
      count += 2 * 9 * f * f + 2 * 4 * f;
    }
    count += 8 * b * k + k;
    const m = buildModel(b === 16 ? 'resnet18-w16' : 'resnet18-w32', { seed: 1, numClasses: k });
    expect(m.countParams()).toBe(count);
    expect(spatial(m, 'Add', 8)).toEqual([3, 3]);
    expect(m.outputs[0].shape).toEqual([null, k]);
    expect(headLayer(m).getClassName()).toBe('Dense');
    m.dispose();
  });

  it.each([
    ['mini-xception', 8, [16, 32, 64, 128], 58423],
    ['mini-xception-x2', 16, [32, 64, 128, 256], 205031],
    ['mini-xception-x4', 32, [64, 128, 256, 512], 762823],
    ['mini-xception-s2c2-x3', 24, [48, 96, 192, 384], 439831],
    ['mini-xception-s2c2-x4', 32, [64, 128, 256, 512], 762823],
    ['mini-xception-s2c2-x2x3', 16, [32, 64, 192, 384], 410215],
  ] as const)('%s: parameters by hand (stem %i, modules %j)', (arch, b, modules, total) => {
    // Stem: two 3×3 convs without bias (1 → b → b) + BN (4 vectors each); per module cin → c: a strided 1×1
    // shortcut, two separable convs (3×3 depthwise + 1×1 pointwise), three BNs; head: 3×3 conv to 7 with bias.
    let count = 9 * b + 4 * b + 9 * b * b + 4 * b,
      cin: number = b;
    for (const c of modules) {
      count += cin * c + 9 * cin + cin * c + 9 * c + c * c + 3 * 4 * c;
      cin = c;
    }
    count += 9 * cin * 7 + 7;
    expect(count).toBe(total);
    const m = buildModel(arch, { seed: 1 });
    expect(m.countParams()).toBe(count);
    m.dispose();
  });

  it('a transfer between resnet heads keeps the rows of shared class names', () => {
    const src = buildModel('resnet18-w16', { seed: 2 }),
      dst = buildModel('resnet18-w16', { seed: 3, numClasses: 2 });
    const kept = transplantHead(src, ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'], dst, ['bored', 'happy']);
    expect(kept).toEqual(['happy']);
    const [sk] = headLayer(src).getWeights(),
      [dk] = headLayer(dst).getWeights();
    const col = (t: tf.Tensor, c: number, n: number) => Array.from(t.dataSync()).filter((_, i) => i % n === c);
    expect(col(dk, 1, 2)).toEqual(col(sk, 3, 7));
    expect(col(dk, 0, 2)).not.toEqual(col(sk, 6, 7));
    src.dispose();
    dst.dispose();
  });

  it('stride-2 stems: same 58,423 parameters, quarter-size activations after the stem', () => {
    const paper = buildModel('mini-xception', { seed: 1 });
    const s1 = buildModel('mini-xception-s2c1', { seed: 1 });
    const s2 = buildModel('mini-xception-s2c2', { seed: 1 });
    const sp = buildModel('mini-xception-s2p', { seed: 1 });
    for (const m of [paper, s1, s2, sp]) expect(m.countParams()).toBe(58423);
    expect(spatial(sp, 'MaxPooling2D', 1)).toEqual([22, 22]); // after the full-resolution stem (44)
    expect(spatial(sp, 'Add', 1)).toEqual([11, 11]);
    // Valid 3×3 convs: 48 → 46 → 44; stride 2 in conv 1: 48 → 23 → 21; in conv 2: 48 → 46 → 22.
    expect([spatial(paper, 'Conv2D', 1), spatial(paper, 'Conv2D', 2)]).toEqual([
      [46, 46],
      [44, 44],
    ]);
    expect([spatial(s1, 'Conv2D', 1), spatial(s1, 'Conv2D', 2)]).toEqual([
      [23, 23],
      [21, 21],
    ]);
    expect([spatial(s2, 'Conv2D', 1), spatial(s2, 'Conv2D', 2)]).toEqual([
      [46, 46],
      [22, 22],
    ]);
    // First residual block's output: 22 for the paper's network, 11 for both stems.
    expect(spatial(paper, 'Add', 1)).toEqual([22, 22]);
    expect(spatial(s1, 'Add', 1)).toEqual([11, 11]);
    expect(spatial(s2, 'Add', 1)).toEqual([11, 11]);
    // The wide stride-2 stem: x2's parameters (strides add none) on s2c2's resolutions.
    const x2 = buildModel('mini-xception-x2', { seed: 1 });
    const s2x2 = buildModel('mini-xception-s2c2-x2', { seed: 1 });
    expect(s2x2.countParams()).toBe(x2.countParams());
    expect(spatial(s2x2, 'Conv2D', 2)).toEqual([22, 22]);
    expect(spatial(s2x2, 'Add', 1)).toEqual([11, 11]);
    // Stride 2 already in the first conv: the second conv at 21×21 (no layer at 46/44 px), then as s2c1.
    const s1x2 = buildModel('mini-xception-s2c1-x2', { seed: 1 });
    expect(s1x2.countParams()).toBe(x2.countParams());
    expect(spatial(s1x2, 'Conv2D', 2)).toEqual(spatial(s1, 'Conv2D', 2));
    expect(spatial(s1x2, 'Add', 1)).toEqual([11, 11]);
    for (const m of [paper, s1, s2, sp, x2, s2x2, s1x2]) m.dispose();
  });

  it('transplants every weight into a stride-2 variant, and all but the head into 3 classes', () => {
    const source = fixtureModel(3);
    const slim = buildModel('mini-xception-s2c2', { seed: 9 });
    expect(transplantWeights(source, slim)).toEqual({ copied: source.weights.length, skipped: [] });
    source.weights.forEach((w, i) => expect(slim.weights[i].read().dataSync()).toEqual(w.read().dataSync()));
    const three = buildModel('mini-xception', { seed: 9, numClasses: 3 });
    const before = three.weights.map((w) => w.read().dataSync().slice());
    const r = transplantWeights(source, three);
    expect(r.copied).toBe(source.weights.length - 2);
    expect(r.skipped).toHaveLength(2); // the last conv's kernel [3,3,128,3] and bias [3]
    const head = three.weights.findIndex((w) => w.shape.join() === '3,3,128,3');
    expect(r.skipped).toContain(three.weights[head].name);
    expect(three.weights[head].read().dataSync()).toEqual(before[head]); // left as initialised
    three.weights.forEach((w, i) => {
      if (!r.skipped.includes(w.name)) expect(w.read().dataSync()).toEqual(source.weights[i].read().dataSync());
    });
    for (const m of [source, slim, three]) m.dispose();
  });

  it.each(['mini-xception-s2c1', 'mini-xception-s2c2', 'mini-xception-s2p'] as const)('%s exports to ONNX matching tfjs', async (arch) => {
    const model = buildModel(arch, { seed: 4 });
    transplantWeights(fixtureModel(4), model); // non-trivial batch-norm statistics
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-arch-')), arch);
    await saveModel(model, dir, defaultMetadata(arch));
    const sample = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
    const r = await exportOnnx(dir, `${dir}.onnx`, {
      precision: 'fp32',
      nchw: false,
      keepIoFloat32: true,
      version: 't',
      sample,
      verify: true,
    });
    expect(r.verification!.maxAbsDiff).toBeLessThan(1e-4);
    expect(r.verification!.top1Agreement).toBe(1);
  });
});
