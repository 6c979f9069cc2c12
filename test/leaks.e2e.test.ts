/**
 * No tfjs tensor outlives the library's stages: one epoch of `train`, `exportOnnx`, evaluation and a predictor
 * over 50 images each leave `tf.memory().numTensors` as they found it. Only the public API (src/index.ts) is
 * called, each stage in one line, so a renamed or new stage function is a one-line change here.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../src/engine/tf.js';
import {
  createPredictor,
  evaluateModel,
  exportOnnx,
  loadDataset,
  train,
  trainOptionsSchema,
  useBackend,
  type Dataset,
  type PredictInput,
} from '../src/index.js';
import { FIXTURE_DATA } from './fixture-model.js';
import { tensorsLeftBy } from './leaks.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-leak-'));
const SCENES = path.resolve(FIXTURE_DATA, '..', 'scenes');

beforeAll(async () => {
  await useBackend('auto'); // fer-native where it is built, else wasm: the backend users get
});

describe('the leak checker', () => {
  it('reports a planted leak, and nothing for a tidy call', async () => {
    let planted: tf.Tensor | undefined;
    expect(
      await tensorsLeftBy(() => {
        planted = tf.tensor([1, 2, 3]); // never disposed
      }),
    ).toBe(1);
    planted!.dispose();
    expect(await tensorsLeftBy(() => tf.tidy(() => tf.tensor([1, 2, 3]).square().sum().dataSync()))).toBe(0);
  });
});

describe('no tensor leaks in the stages', () => {
  let ds: Dataset;
  let model: string;
  beforeAll(async () => {
    ds = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
  });

  it('one epoch of train', async () => {
    const out = tmp();
    const o = trainOptionsSchema.parse({ epochs: 1, batchSize: 35, seed: 1 });
    expect(await tensorsLeftBy(() => train(ds, ds, o, { out }))).toBe(0);
    model = path.join(out, 'last');
  });

  it('train interrupted after one batch, then resumed (the checkpoint and the optimizer it restores)', async () => {
    const out = tmp();
    const o = trainOptionsSchema.parse({ epochs: 1, batchSize: 35, seed: 1 });
    expect(await tensorsLeftBy(() => train(ds, null, o, { out, shouldStop: () => true }))).toBe(0);
    expect(await tensorsLeftBy(() => train(ds, null, o, { out, resume: true }))).toBe(0);
  });

  it('exportOnnx (with its onnxruntime verification)', async () => {
    const file = path.join(tmp(), 'm.onnx');
    expect(await tensorsLeftBy(() => exportOnnx(model, file, { version: 'leak-test', sample: ds }))).toBe(0);
  });

  it('evaluation', async () => {
    expect(await tensorsLeftBy(() => evaluateModel(model, ds, 'flip'))).toBe(0);
  });

  it('createPredictor().predict over 50 images, one call each, then dispose', async () => {
    // 48 face crops and 2 photos, through the tiny detector (face-api's tfjs nets) and the trained tfjs model as the
    // classifier, on wasm: fer-native runs this single-image inference ~10× slower (about 1 s a crop, measured).
    const val = path.join(FIXTURE_DATA, 'val');
    const crops = readdirSync(val).flatMap((c) => readdirSync(path.join(val, c)).map((f) => path.join(val, c, f)));
    const inputs: PredictInput[] = [...crops.slice(0, 48), path.join(SCENES, 'one-face.jpg'), path.join(SCENES, 'two-faces.jpg')];
    expect(inputs).toHaveLength(50);
    let faces = 0;
    const left = await tensorsLeftBy(async () => {
      const predictor = await createPredictor({ model, detector: 'tiny', backend: 'wasm' });
      // The first call loads the face nets; every later call must leave the count where it found it.
      faces += (await predictor.predict(inputs[0])).faces.length;
      const steady = tf.memory().numTensors;
      for (const input of inputs.slice(1)) faces += (await predictor.predict(input)).faces.length;
      expect(tf.memory().numTensors - steady, 'tensors left by 49 predict calls').toBe(0);
      await predictor.dispose();
    });
    expect(faces).toBeGreaterThanOrEqual(50);
    expect(left, 'tensors left by the predictor after dispose').toBe(0);
  });
});
