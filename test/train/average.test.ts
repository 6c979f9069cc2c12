/**
 * Weight averaging and batch-norm re-estimation, against hand-computed values: the mean of two models'
 * weights, and batch-norm moving statistics equal to the average of each batch's mean and (biased) variance.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { averageWeightsInto, recalibrateBatchNorm } from '../../src/train/average.js';
import { batchNorm } from '../../src/model/batch-norm.js';
import { buildModel } from '../../src/model/mini-xception.js';
import { PREPROCESS } from '../../src/data/augment.js';
import { Rng } from '../../src/util/rng.js';
import { ModelError } from '../../src/errors.js';
import { fixtureModel } from '../fixture-model.js';
import { expectClose } from '../helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('averageWeightsInto', () => {
  it('sets every weight to the element-wise mean', () => {
    const a = fixtureModel(1),
      b = fixtureModel(2),
      c = fixtureModel(3);
    const wa = a.getWeights().map((t) => t.dataSync().slice());
    const wb = b.getWeights().map((t) => t.dataSync().slice());
    averageWeightsInto(c, [a, b]);
    const wc = c.getWeights();
    expect(wc.length).toBe(wa.length);
    wc.forEach((t, i) =>
      expectClose(
        t.dataSync(),
        wa[i].map((v, j) => (v + wb[i][j]) / 2),
        { atol: 1e-7, label: `weight ${i}` },
      ),
    );
    // The sources are untouched.
    expectClose(a.getWeights()[0].dataSync(), wa[0], { atol: 0, rtol: 0 });
    [a, b, c].forEach((m) => m.dispose());
  });

  it('refuses models of another architecture', () => {
    const a = fixtureModel(1),
      wide = buildModel('mini-xception-x2', { seed: 1 });
    expect(() => averageWeightsInto(a, [a, wide])).toThrow(ModelError);
    // named by the paths they came from when given (fer average's message)
    expect(() => averageWeightsInto(a, [a, wide], ['runs/a/last', 'models/wide'])).toThrow(
      'average: models/wide has other weights than runs/a/last (a different architecture)',
    );
    a.dispose();
    wide.dispose();
  });
});

describe('recalibrateBatchNorm', () => {
  // input → 1×1 conv with known weights (3 channels: w·x + b) → batch norm: each channel's batch mean and
  // variance follow from the pixels' by hand.
  const w = [0.5, -2, 1.5],
    bias = [0.1, 0.3, -1];
  function tinyModel(): tf.LayersModel {
    const input = tf.input({ shape: [48, 48, 1] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: true });
    const bn = batchNorm('bn');
    const model = tf.model({ inputs: input, outputs: bn.apply(conv.apply(input)) as tf.SymbolicTensor });
    conv.setWeights([tf.tensor4d(w, [1, 1, 1, 3]), tf.tensor1d(bias)]);
    return model;
  }

  it("moving mean and variance become the average of the batches' statistics; momentum is restored", () => {
    const count = 14,
      batchSize = 4,
      P = 48 * 48;
    const images = new Uint8Array(count * P);
    const rng = new Rng(9);
    // Each image its own brightness and contrast, so that batches differ.
    for (let n = 0; n < count; n++) {
      const base = rng.uniform(20, 200),
        spread = rng.uniform(5, 50);
      for (let i = 0; i < P; i++) images[n * P + i] = Math.max(0, Math.min(255, Math.round(base + spread * rng.uniform(-1, 1))));
    }
    const model = tinyModel();
    const bnLayer = model.getLayer('bn') as unknown as { momentum: number };
    const momentum = bnLayer.momentum;
    const used = recalibrateBatchNorm(model, images, count, { batchSize, seed: 3 });
    expect(used).toBe(3); // 14 images: three full batches, the last two images left out

    const order = new Rng(3).shuffle([...Array(count).keys()]);
    const means: number[] = [],
      vars: number[] = [];
    for (let k = 0; k < used; k++) {
      let s = 0,
        s2 = 0;
      for (const n of order.slice(k * batchSize, (k + 1) * batchSize)) {
        for (let i = 0; i < P; i++) {
          const x = images[n * P + i] * PREPROCESS.scale + PREPROCESS.offset;
          s += x;
          s2 += x * x;
        }
      }
      const m = s / (batchSize * P);
      means.push(m);
      vars.push(s2 / (batchSize * P) - m * m);
    }
    const mx = means.reduce((a, b) => a + b) / used,
      vx = vars.reduce((a, b) => a + b) / used;
    const [, , movingMean, movingVar] = model
      .getLayer('bn')
      .getWeights()
      .map((t) => t.dataSync());
    expectClose(
      movingMean,
      w.map((wc, c) => wc * mx + bias[c]),
      { atol: 1e-5, label: 'moving mean' },
    );
    expectClose(
      movingVar,
      w.map((wc) => wc * wc * vx),
      { atol: 1e-5, rtol: 1e-3, label: 'moving variance' },
    );
    expect(bnLayer.momentum).toBe(momentum);
    model.dispose();
  });
});
