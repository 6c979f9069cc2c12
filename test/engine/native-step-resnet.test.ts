/**
 * The native whole-step executor (engine/native/native-step.ts, step-layers-resnet.ts) on the ResNet-18 teachers'
 * layer kinds against tfjs's own training step on the `cpu` backend (the independent reference): a small model of
 * the teachers' family (model/mini-xception.ts resnet: a stride-1 stem, stride-2 3×3 convs, 1×1 stride-2 projection
 * shortcuts with their batch norm, identity shortcuts whose input fans out to a conv and the Add, ReLU after the
 * Add, global average pooling, seeded dropout, a softmax Dense) at 24×24, base width 4. The loss, every weight,
 * moving statistic and optimizer slot after one and three steps, for SGD-Nesterov (the teachers' optimizer) and
 * Adam, with L2 on the convs. Tolerances as test/engine/native-step.test.ts: the loss within 1e-5 relative, every
 * tensor within 1e-4 of its largest |value| (Adam's weights 0.02·lr more; slots floored at 1e-3 of their kind's largest).
 * And the real teachers (resnet18-w32 as `--arch` builds it, and the committed models/teachers/resnet18-w32) compile.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { loadNativeAddon } from '../../src/engine/native/addon.js';
import { NativeTrainStep } from '../../src/engine/native/native-step.js';
import { PLAN_OP, PLAN_OPS, compileStep } from '../../src/engine/native/step-plan.js';
import { buildModel, resnet } from '../../src/model/mini-xception.js';
import { loadModel } from '../../src/model/io.js';
import { withPenalties } from '../../src/train/epoch.js';
import { trainingLoss } from '../../src/train/distill.js';
import { variableOf } from '../../src/engine/tfjs-internals.js';
import { randomArray } from '../helpers.js';
import { expectStateClose as expectClose, snapshot, type State } from './step-state.js';

const addon = loadNativeAddon();
const hasStep = !!addon?.runPlan && (addon.planOps ?? 0) >= PLAN_OPS;
const N = 4,
  SIZE = 24,
  C = 7;

function smallResnet(dropout: number): tf.LayersModel {
  const model = resnet({ inputSize: SIZE, base: 4, seed: 5, l2: 0.01, dropout });
  let s = 400;
  for (const l of model.layers) {
    if (l.getClassName() === 'BatchNormalization')
      l.setWeights(
        l.getWeights().map((w, i) =>
          tf.tensor(
            Float32Array.from(randomArray(w.size, s++, 0.5), (x) => (i === 0 || i === 3 ? 1 + x : x)),
            w.shape,
          ),
        ),
      );
    // A Dense bias that is not zero, so its gradient and update count from the first step.
    if (l.getClassName() === 'Dense') l.setWeights([l.getWeights()[0], tf.tensor(randomArray(C, 77, 0.1))]);
  }
  return model;
}

function batch(b: number): { xs: Float32Array; ys: Float32Array } {
  const xs = randomArray(N * SIZE * SIZE, 2000 + b);
  const ys = new Float32Array(N * C).fill(0.1 / C);
  for (let i = 0; i < N; i++) ys[i * C + ((i + b) % C)] += 0.9;
  return { xs, ys };
}

function tfjsStep(model: tf.LayersModel, opt: tf.Optimizer, b: number): number {
  return tf.tidy(() => {
    const { xs, ys } = batch(b);
    const x = tf.tensor4d(xs, [N, SIZE, SIZE, 1]),
      y = tf.tensor2d(ys, [N, C]);
    const vars = model.trainableWeights.map(variableOf);
    const { value, grads } = tf.variableGrads(
      () => withPenalties(model, trainingLoss(y, model.apply(x, { training: true }) as tf.Tensor)),
      vars,
    );
    opt.applyGradients(grads);
    return value.dataSync()[0];
  });
}

/** `steps` steps, tfjs's (native false) or the native executor's, from the same model and optimizer. */
async function run(makeOpt: () => tf.Optimizer, steps: number, native: boolean, dropout = 0.3, maskOff = false): Promise<State> {
  const model = smallResnet(dropout);
  // The same weights with the Dropout layer passing its input through (tfjs-layers' Dropout reads `rate` each call).
  if (maskOff) for (const l of model.layers) if (l.getClassName() === 'Dropout') (l as unknown as { rate: number }).rate = 0;
  const opt = makeOpt();
  const losses: number[] = [];
  if (native) {
    const s = NativeTrainStep.create(model, opt, N);
    if ('unsupported' in s) throw new Error(s.unsupported);
    for (let b = 0; b < steps; b++) losses.push(s.step(batch(b).xs, batch(b).ys).loss);
    s.push();
  } else for (let b = 0; b < steps; b++) losses.push(tfjsStep(model, opt, b));
  const out = await snapshot(model, opt, losses);
  model.dispose();
  opt.dispose();
  return out;
}

const adam = () => tf.train.adam(0.002);
const nesterov = () => tf.train.momentum(0.02, 0.9, true);

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});
afterAll(() => void tf.setBackend('cpu'));

describe.skipIf(!hasStep)('native whole training step on the ResNet teachers equals tfjs on cpu', () => {
  for (const steps of [1, 3])
    it(`SGD-Nesterov, ${steps} step(s)`, async () => {
      expectClose(await run(nesterov, steps, true), await run(nesterov, steps, false));
    });

  it('Adam, 3 steps', async () => {
    expectClose(await run(adam, 3, true), await run(adam, 3, false), 0.002);
  });

  it('without dropout (rate 0: no Dropout layer), SGD-Nesterov, 2 steps', async () => {
    expectClose(await run(nesterov, 2, true, 0), await run(nesterov, 2, false, 0));
  });

  it('the dropout mask matters here: tfjs without it is not within the tolerance of the native step', async () => {
    const native = await run(nesterov, 1, true);
    expectClose(native, await run(nesterov, 1, false));
    const withoutMask = await run(nesterov, 1, false, 0.3, true);
    expect(() => expectClose(native, withoutMask)).toThrow();
  });
});

describe.skipIf(!hasStep)('the real teachers compile', () => {
  const opt = { kind: 'momentum', nesterov: true } as const;
  const ops = (program: Int32Array) => new Set(program); // a superset of the opcodes (operands too): enough for "has"

  it('resnet18-w32 as --arch builds it, at batch 64', () => {
    const model = buildModel('resnet18-w32', { seed: 31, l2: 0.0005 });
    const plan = compileStep(model, 64, opt);
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    expect(plan.classes).toBe(7);
    expect(plan.weights.length).toBe(model.weights.length);
    expect(plan.perStep.length).toBe(1); // the dropout mask
    for (const op of [PLAN_OP.MatMul, PLAN_OP.Mul, PLAN_OP.Conv, PLAN_OP.BnReluForward]) expect(ops(plan.program).has(op)).toBe(true);
    model.dispose();
  });

  it('the committed teacher models/teachers/resnet18-w32 (its saved topology, dropout seed included)', async () => {
    const { model } = await loadModel('models/teachers/resnet18-w32');
    const plan = compileStep(model, 64, opt);
    expect('unsupported' in plan ? plan.unsupported : 'compiles').toBe('compiles');
    model.dispose();
  });
});
