/**
 * Issue 36's recovery pieces against hand-computed values: LAMP scores and masks, the cubic sparsity ramp a
 * fine-tune's pruning hook follows (zeros counted after each mask update), online distillation's soft
 * targets, and batch-norm re-estimation against tfjs's own moments on the cpu backend.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { lampMasks, lampScores, globalMasks } from '../../src/prune/prune.js';
import { rampSchedule } from '../../src/train/finetune.js';
import { pruneHook } from '../../src/train/hooks/prune.js';
import { trainOptionsSchema } from '../../src/train/options.js';
import { modelSparsity } from '../../src/prune/model.js';
import { onlineSoftTargets, trainingLoss } from '../../src/train/distill.js';
import { reestimateBatchNorm } from '../../src/compress/recovery.js';
import { makeBatch } from '../../src/data/augment.js';
import { BATCH_NORM_CLASS } from '../../src/model/batch-norm.js';
import { producers } from '../../src/model/graph.js';
import { Rng } from '../../src/util/rng.js';
import { fixtureModel } from '../fixture-model.js';
import { expectClose } from '../helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('LAMP', () => {
  it('scores w_u² / Σ_{v ≥ u} w_v² in ascending |w| order (hand-computed)', () => {
    // |w| ascending: −1 (1), 2 (2), 3 (0): 1/(1+4+9), 4/(4+9), 9/9.
    expectClose(lampScores(Float32Array.of(3, -1, 2)), [1, 1 / 14, 4 / 13], { atol: 1e-12 });
  });

  it('one threshold on the scores: a small-scale tensor is not pruned away as a global |w| threshold does', () => {
    const a = Float32Array.of(3, -1, 2),
      b = Float32Array.of(0.1, 0.2); // scores 0.01/0.05 = 0.2 and 1
    // 2 of 5 pruned: the two lowest scores, 1/14 (a[1]) and 0.2 (b[0]).
    expect(lampMasks([a, b], 0.4).map((m) => Array.from(m))).toEqual([
      [1, 0, 1],
      [0, 1],
    ]);
    expect(globalMasks([a, b], 0.4).map((m) => Array.from(m))).toEqual([
      [1, 1, 1],
      [0, 0],
    ]);
  });
});

describe('the sparsity ramp inside a fine-tune', () => {
  it('rises from the initial sparsity to the target on the cubic over the first share of the steps', () => {
    // 64 steps, ramp 0.5: ends at step 32, masks every 32/16 = 2 steps, from 10%.
    const r = rampSchedule(64, 0.5, 0.1);
    expect(r).toEqual({ pruneBegin: 0, pruneEnd: 0.5, pruneFrequency: 2, pruneInitial: 0.1 });
    expect(rampSchedule(64, 0, 0.1)).toMatchObject({ pruneBegin: 0, pruneEnd: 0 });
    const model = fixtureModel(3);
    const hook = pruneHook(trainOptionsSchema.parse({ pruneTarget: 0.5, pruneScope: 'lamp', ...r }))!;
    hook.init!(model, 64);
    const n = modelSparsity(model).total;
    // s(t) = 0.5 + (0.1 − 0.5)(1 − t/32)³: LAMP prunes exactly floor(s·n) weights.
    const expected: Record<number, number> = { 0: 0.1, 8: 0.5 - 0.4 * 0.75 ** 3, 16: 0.5 - 0.4 * 0.125, 32: 0.5, 40: 0.5 };
    for (let step = 0; step <= 40; step++) {
      hook.afterStep!(step);
      if (step in expected) expect(n - modelSparsity(model).nonzero, `step ${step}`).toBe(Math.floor(expected[step] * n));
    }
    model.dispose();
  });
});

describe('online distillation', () => {
  it("the teacher's probabilities on the batch, softened at T: p^(1/T) renormalized (hand-computed)", () => {
    // Dense identity layer + softmax on logits (0, ln 2, ln 4): p = (1, 2, 4)/7; T = 2: (1, √2, 2)/(3 + √2).
    const input = tf.input({ shape: [3] });
    const dense = tf.layers.dense({ units: 3, activation: 'softmax', useBias: false, kernelInitializer: 'identity' });
    const teacher = tf.model({ inputs: input, outputs: dense.apply(input) as tf.SymbolicTensor });
    const x = tf.tensor2d([[0, Math.log(2), Math.log(4)]]);
    const q = onlineSoftTargets([teacher], x, 2);
    const z = 3 + Math.SQRT2;
    expectClose(q.dataSync(), [1 / z, Math.SQRT2 / z, 2 / z], { atol: 1e-6 });
    // The loss the student then gets, p = (0.5, 0.25, 0.25), label 0, α = 0.5, T = 2:
    // 0.5·(−ln 0.5) + 0.5·4·CE(q, softmax(ln p / 2)), softmax(ln p / 2) = (√.5, √.25, √.25)/Σ.
    const p = [0.5, 0.25, 0.25],
      s = p.map(Math.sqrt),
      ss = s.reduce((a, b) => a + b);
    const ce = -[1 / z, Math.SQRT2 / z, 2 / z].reduce((a, qi, i) => a + qi * Math.log(s[i] / ss), 0);
    const loss = trainingLoss(tf.tensor2d([[1, 0, 0]]), tf.tensor2d([p]), { soft: q, alpha: 0.5, temperature: 2 });
    expect(loss.dataSync()[0]).toBeCloseTo(0.5 * -Math.log(0.5) + 0.5 * 4 * ce, 5);
    tf.dispose([x, q, loss]);
    teacher.dispose();
  });

  it("an ensemble's targets soften the teachers' mean probabilities (hand-computed)", () => {
    // Two softmax teachers over the same input: p1 = (1, 2, 4)/7 (identity) and p2 = (4, 2, 1)/7 (reversed).
    // Mean (5, 4, 5)/14; T = 2: (√5, 2, √5)/(2√5 + 2). Averaging the softened targets instead would differ.
    const make = (kernel: number[][]) => {
      const input = tf.input({ shape: [3] });
      const dense = tf.layers.dense({ units: 3, activation: 'softmax', useBias: false, weights: [tf.tensor2d(kernel)] });
      return tf.model({ inputs: input, outputs: dense.apply(input) as tf.SymbolicTensor });
    };
    const a = make([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const b = make([
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ]);
    const x = tf.tensor2d([[0, Math.log(2), Math.log(4)]]);
    const q = onlineSoftTargets([a, b], x, 2);
    const r5 = Math.sqrt(5),
      z = 2 * r5 + 2;
    expectClose(q.dataSync(), [r5 / z, 2 / z, r5 / z], { atol: 1e-6 });
    tf.dispose([x, q]);
    a.dispose();
    b.dispose();
  });
});

describe('batch-norm re-estimation', () => {
  it("every batch norm's moving mean and variance become tf.moments of its input over the images (one batch)", () => {
    const model = fixtureModel(7);
    const count = 12,
      P = 48 * 48;
    const rng = new Rng(5);
    const images = Uint8Array.from({ length: count * P }, () => Math.floor(rng.uniform(0, 256)));
    const bns = model.layers.filter((l) => l.getClassName() === BATCH_NORM_CLASS);
    // Expected first: training mode normalizes with the batch's own statistics, whatever the moving ones are.
    const x = tf.tensor4d(makeBatch(images, [...Array(count).keys()]), [count, 48, 48, 1]);
    const expected = bns.map((bn) => {
      const probe = tf.model({ inputs: model.inputs, outputs: producers(bn)[0].output as tf.SymbolicTensor });
      return tf.tidy(() => {
        const { mean, variance } = tf.moments(probe.apply(x, { training: true }) as tf.Tensor, [0, 1, 2]);
        return [mean.dataSync().slice(), variance.dataSync().slice()];
      });
    });
    const note = reestimateBatchNorm(model, { images, size: count });
    expect(note).toMatchObject({ images: count, batches: 1 });
    bns.forEach((bn, i) => {
      const [, , mean, variance] = bn.getWeights().map((t) => t.dataSync());
      expectClose(mean, expected[i][0], { atol: 1e-4, rtol: 1e-3, label: `${bn.name} mean` });
      expectClose(variance, expected[i][1], { atol: 1e-4, rtol: 1e-3, label: `${bn.name} variance` });
    });
    x.dispose();
    model.dispose();
  });
});
