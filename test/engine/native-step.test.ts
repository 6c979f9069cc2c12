/**
 * The native whole-step executor (engine/native/native-step.ts, native/src/step.cc) against tfjs's own training
 * step on the `cpu` backend (the independent reference: tfjs's tape, its ops and optimizers), on small
 * mini-Xceptions: the loss, every weight, batch-norm moving statistics and optimizer slots after one and three
 * steps, for Adam and SGD-Nesterov with L2, against soft (smoothed and mixed) targets.
 * Tolerance: the loss within 1e-5 relative; every weight, moving statistic and optimizer slot within 1e-4 of the
 * tensor's largest |value| (the two sum in different orders: observed up to 5.3e-5, in a 4-channel β after 3 momentum steps; a broken instruction is off by
 * 1e-3 to 1). Adam's weights get 0.02·lr more: where a gradient is ~0 (a β whose channel's gradients cancel) its
 * update m/(√v + ε) is ±lr on rounding noise alone (observed 0.007·lr); its m and v are held to 1e-4.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { loadNativeAddon } from '../../src/engine/native/addon.js';
import { NativeTrainStep } from '../../src/engine/native/native-step.js';
import { compileStep } from '../../src/engine/native/step-plan.js';
import { miniXception } from '../../src/model/mini-xception.js';
import { withPenalties } from '../../src/train/epoch.js';
import { trainingLoss } from '../../src/train/distill.js';
import { variableOf } from '../../src/engine/tfjs-internals.js';
import { headLayer } from '../../src/model/transplant.js';
import { randomArray } from '../helpers.js';
import { expectStateClose as expectClose, snapshot, type State } from './step-state.js';
import { registerNativeBackend, NATIVE_BACKEND } from '../../src/engine/native/backend.js';
import { chooseTrainStep } from '../../src/train/native-step.js';
import { trainOptionsSchema } from '../../src/train/options.js';

const addon = loadNativeAddon();
const hasStep = !!addon?.runPlan;
const N = 4,
  SIZE = 28,
  C = 7;

function smallModel(stemStride: 0 | 1 = 0): tf.LayersModel {
  const model = miniXception({ inputSize: SIZE, width: 0.5, seed: 11, l2: 0.01, stemStride });
  let s = 300;
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    l.setWeights(
      l.getWeights().map((w, i) =>
        tf.tensor(
          Float32Array.from(randomArray(w.size, s++, 0.5), (x) => (i === 0 || i === 3 ? 1 + x : x)),
          w.shape,
        ),
      ),
    );
  }
  // A bias that is not zero, so its gradient and update are exercised from the first step.
  const head = model.layers.find((l) => l.getClassName() === 'Conv2D' && l.getWeights().length === 2)!;
  head.setWeights([head.getWeights()[0], tf.tensor(randomArray(C, 77, 0.1))]);
  return model;
}

/** Batch b: images and targets that are smoothed one-hot labels, every other row mixed with another (mixup). */
function batch(b: number): { xs: Float32Array; ys: Float32Array } {
  const xs = randomArray(N * SIZE * SIZE, 1000 + b);
  const ys = new Float32Array(N * C).fill(0.1 / C);
  for (let i = 0; i < N; i++) {
    ys[i * C + ((i + b) % C)] += 0.9 * (i % 2 ? 0.7 : 1);
    if (i % 2) ys[i * C + ((i + b + 3) % C)] += 0.9 * 0.3;
  }
  return { xs, ys };
}

/** Distillation's loss terms for the runs that set them (null: labels alone). */
let distill: { alpha: number; temperature: number } | null = null;
/** Class weights for the runs that set them (one is 0: a batch's rows then count by their nonzero weights). */
let classWeights: number[] | null = null;
/** Steps before this one train the head alone (--freeze-epochs: the body's gradients are zeros). */
let frozenSteps = 0;

/** Batch b's soft targets: a teacher's softened distribution per row (rows sum to 1, none one-hot). */
function softs(b: number): Float32Array {
  const r = Float32Array.from(randomArray(N * C, 5000 + b), (x) => Math.exp(2 * x));
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += r[i * C + c];
    for (let c = 0; c < C; c++) r[i * C + c] /= s;
  }
  return r;
}

/** tfjs's step as src/train/epoch.ts takes it (variableGrads of trainingLoss + the L2 terms, applyGradients). */
function tfjsStep(model: tf.LayersModel, opt: tf.Optimizer, b: number): number {
  return tf.tidy(() => {
    const { xs, ys } = batch(b);
    const x = tf.tensor4d(xs, [N, SIZE, SIZE, 1]),
      y = tf.tensor2d(ys, [N, C]);
    const soft = distill ? { soft: tf.tensor2d(softs(b), [N, C]), ...distill } : {};
    const weights = classWeights ? tf.tensor1d(classWeights) : null;
    // Over model.trainableWeights in order, as epoch.ts (the optimizer's slots follow the gradients' order); with a
    // frozen body the gradient of the head's alone, the others' zeros.
    const vars = model.trainableWeights.map(variableOf);
    const trained = b < frozenSteps ? headLayer(model).trainableWeights.map(variableOf) : vars;
    const { value, grads } = tf.variableGrads(
      () => withPenalties(model, trainingLoss(y, model.apply(x, { training: true }) as tf.Tensor, { ...soft, weights })),
      trained,
    );
    opt.applyGradients(Object.fromEntries(vars.map((v) => [v.name, grads[v.name] ?? tf.zerosLike(v)])));
    return value.dataSync()[0];
  });
}

/** `steps` steps: tfjs's before step `nativeFrom`, the native executor's from it on (pulling tfjs's state then). */
async function run(makeOpt: () => tf.Optimizer, steps: number, stemStride: 0 | 1, nativeFrom: number, fuse = true): Promise<State> {
  const model = smallModel(stemStride);
  const opt = makeOpt();
  const losses: number[] = [];
  for (let b = 0; b < Math.min(steps, nativeFrom); b++) losses.push(tfjsStep(model, opt, b));
  if (nativeFrom < steps) {
    const s = NativeTrainStep.create(model, opt, N, { fuse, distill: distill ?? undefined, classWeights });
    if ('unsupported' in s) throw new Error(s.unsupported);
    const head = headLayer(model).trainableWeights.map(variableOf);
    for (let b = nativeFrom; b < steps; b++) {
      s.train(b < frozenSteps ? head : null);
      losses.push(s.step(batch(b).xs, batch(b).ys, undefined, distill ? softs(b) : null).loss);
    }
    s.push();
  }
  const out = await snapshot(model, opt, losses);
  model.dispose();
  opt.dispose();
  return out;
}

const adam = () => tf.train.adam(0.002);
const nesterov = () => tf.train.momentum(0.01, 0.9, true);

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});
afterAll(() => void tf.setBackend('cpu'));

describe.skipIf(!hasStep)('native whole training step equals tfjs on cpu', () => {
  const optimizers: [string, () => tf.Optimizer, number][] = [
    ['Adam', adam, 0.002],
    ['SGD-Nesterov', nesterov, 0],
  ];
  for (const [name, make, adamLr] of optimizers) {
    for (const steps of [1, 3])
      it(`${name}, ${steps} step(s)`, async () => {
        expectClose(await run(make, steps, 0, 0), await run(make, steps, 0, steps), adamLr);
      });
    it(`${name}: one tfjs step, then two native ones from tfjs's state (weights, slots, β powers pulled)`, async () => {
      expectClose(await run(make, 3, 0, 1), await run(make, 3, 0, 3), adamLr);
    });
  }

  it('Adam, 3 steps, with ReLU as its own instructions (not fused into the batch norm)', async () => {
    expectClose(await run(adam, 3, 0, 0, false), await run(adam, 3, 0, 3), 0.002);
  });

  it('distillation (soft targets at T = 2, alpha 0.6): Adam, 3 steps; SGD-Nesterov, one tfjs step then two native', async () => {
    distill = { alpha: 0.6, temperature: 2 };
    try {
      expectClose(await run(adam, 3, 0, 0), await run(adam, 3, 0, 3), 0.002);
      expectClose(await run(nesterov, 3, 0, 1), await run(nesterov, 3, 0, 3));
    } finally {
      distill = null;
    }
  });

  it('class weights (one of them 0), alone and with distillation: Adam, 3 steps; SGD-Nesterov, one tfjs step then two native', async () => {
    classWeights = [0.5, 1, 0, 1.5, 0.8, 3, 1.2];
    try {
      expectClose(await run(adam, 3, 0, 0), await run(adam, 3, 0, 3), 0.002);
      expectClose(await run(nesterov, 3, 0, 1), await run(nesterov, 3, 0, 3));
      distill = { alpha: 0.4, temperature: 3 };
      expectClose(await run(adam, 3, 0, 0), await run(adam, 3, 0, 3), 0.002);
    } finally {
      classWeights = null;
      distill = null;
    }
  });

  it('a frozen body (the head alone trained for 2 steps, then everything): Adam and SGD-Nesterov, 3 steps', async () => {
    frozenSteps = 2;
    try {
      const frozen = await run(adam, 3, 0, 0);
      expectClose(frozen, await run(adam, 3, 0, 3), 0.002);
      expectClose(await run(nesterov, 3, 0, 0), await run(nesterov, 3, 0, 3));
      // Not vacuous: the body's first conv kernel is the initial one after 2 frozen steps, changed after the third.
      frozenSteps = 3;
      const ref = smallModel();
      expect((await run(adam, 2, 0, 0)).weights[0]).toEqual(ref.weights[0].read().dataSync());
      expect(frozen.weights[0]).not.toEqual(ref.weights[0].read().dataSync());
      ref.dispose();
    } finally {
      frozenSteps = 0;
    }
  });

  it('a stride-2 stem (mini-xception-s2c1), SGD-Nesterov, 2 steps', async () => {
    expectClose(await run(nesterov, 2, 1, 0), await run(nesterov, 2, 1, 2));
  });

  it('refuses what it does not know, with the reason', () => {
    const input = tf.input({ shape: [8, 8, 1] });
    const y = tf.layers.dense({ units: 7, activation: 'softmax' }).apply(tf.layers.flatten().apply(input)) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: y });
    expect(compileStep(m, 2, { kind: 'adam' })).toEqual({ unsupported: expect.stringMatching(/Flatten/) });
    expect(NativeTrainStep.create(smallModel(), tf.train.sgd(0.1), N)).toEqual({ unsupported: 'the SGD optimizer' });
  });
});

describe.skipIf(!hasStep)('train/native-step.ts: which step a run takes', () => {
  const options = trainOptionsSchema.parse({ batchSize: N });
  const choose = (o = options) => {
    const model = smallModel();
    const c = chooseTrainStep(model, tf.train.adam(0.001), o);
    model.dispose();
    return { native: !!c.native, message: c.message };
  };

  it('the native step on fer-native for a plain run; tfjs otherwise, saying why', async () => {
    expect(choose()).toEqual({ native: false, message: expect.stringMatching(/tfjs training step .*cpu engine/) });
    registerNativeBackend(2);
    await tf.setBackend(NATIVE_BACKEND);
    try {
      expect(choose()).toEqual({ native: true, message: expect.stringMatching(/^train: native whole training step/) });
      expect(choose({ ...options, pruneTarget: 0.5 }).native).toBe(true); // hooks run around the native step
      expect(choose({ ...options, classWeights: true }).native).toBe(true);
      expect(choose({ ...options, freezeEpochs: 1 }).native).toBe(true);
      process.env.FER_TRAIN_STEP = 'tfjs';
      expect(choose().message).toMatch(/FER_TRAIN_STEP=tfjs/);
    } finally {
      delete process.env.FER_TRAIN_STEP;
      await tf.setBackend('cpu');
    }
  });
});
