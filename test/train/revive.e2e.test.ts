/**
 * Dead-channel revival on a mini-Xception whose channels were killed by hand: exactly those are found, the
 * network's outputs do not change, and the revived channels get gradients again (they got none before).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { reviveDeadChannels } from '../../src/train/revive.js';
import { fixtureModel, killChannels as kill, nthLayer as nth } from '../fixture-model.js';
import { consumers, type Layer } from '../../src/model/graph.js';
import { expectClose, randomArray } from '../helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Gradients of a cross-entropy loss (training mode) with respect to the weights of `suffix`'s layer. */
function gradsOf(m: tf.LayersModel, x: tf.Tensor, l: Layer): Float32Array[] {
  const target = l.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const y = tf.oneHot(tf.tensor1d([0, 3, 6, 2], 'int32'), 7);
  const { grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, tf.log(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
    target,
  );
  return target.map((v) => grads[v.name].dataSync() as Float32Array);
}

describe('reviveDeadChannels', () => {
  it('finds exactly the killed channels, keeps the outputs, and the revived channels learn again', () => {
    const m = fixtureModel(3);
    const sep7 = nth(m, 'SeparableConv2D', 7),
      sep8 = nth(m, 'SeparableConv2D', 8);
    const conv1 = nth(m, 'Conv2D', 1),
      conv2 = nth(m, 'Conv2D', 2);
    kill(sep7, [3, 10, 50]); // read by a separable conv
    kill(conv1, [2]); // read by a plain conv
    const x = tf.tensor4d(randomArray(4 * 48 * 48, 7), [4, 48, 48, 1]);
    // Dead: no gradient reaches the next layer's weights for those channels.
    const rowsOf = (g: Float32Array, co: number, chans: number[], C: number) =>
      Array.from(g).filter((_, i) => chans.includes(Math.floor(i / co) % C));
    const dead8 = gradsOf(m, x, sep8);
    expect(rowsOf(dead8[1], 128, [3, 10, 50], 128).every((v) => v === 0)).toBe(true);

    // (After the training-mode pass above, which moves batch norm's moving statistics.)
    const before = (m.predict(x) as tf.Tensor).dataSync().slice();
    const revived = reviveDeadChannels(m, { seed: 2 });
    expect(revived).toEqual([
      { layer: conv1.name, channels: [2] },
      { layer: sep7.name, channels: [3, 10, 50] },
    ]);
    expectClose((m.predict(x) as tf.Tensor).dataSync(), before, { atol: 1e-6, label: 'outputs after revival' });

    const pw7 = sep7.getWeights()[1].dataSync();
    for (const c of [3, 10, 50])
      expect(
        Array.from(pw7)
          .filter((_, i) => i % 128 === c)
          .some((v) => v !== 0),
      ).toBe(true);
    const beta = consumers(sep7)[0].getWeights()[1].dataSync();
    expect([beta[3], beta[10], beta[50]]).toEqual([0, 0, 0]);
    const live8 = gradsOf(m, x, sep8);
    expect(rowsOf(live8[1], 128, [3, 10, 50], 128).some((v) => v !== 0)).toBe(true);
    expect(rowsOf(gradsOf(m, x, conv2)[0], 8, [2], 8).some((v) => v !== 0)).toBe(true);
    m.dispose();
  });

  it('leaves a network without dead channels untouched (a zero kernel that batch norm makes a positive constant is alive)', () => {
    const m = fixtureModel(4);
    const sep3 = nth(m, 'SeparableConv2D', 3);
    kill(sep3, [5]);
    const bn = consumers(sep3)[0];
    bn.setWeights(
      bn.getWeights().map((w, i) =>
        i === 1
          ? tf.tensor(
              w.dataSync().map((v, j) => (j === 5 ? 0.3 : v)),
              w.shape,
            )
          : w,
      ),
    );
    const w = m.getWeights().map((t) => t.dataSync().slice());
    expect(reviveDeadChannels(m)).toEqual([]);
    m.getWeights().forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(w[i])));
    m.dispose();
  });
});
