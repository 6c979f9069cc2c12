/**
 * Knowledge distillation against hand-computed values: softened targets, the combined loss, the teacher
 * ensemble's probabilities (flip views built by hand), and the teacher.f32 cache a resumed run relies on.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { CLASSES } from '../../src/data/classes.js';
import { loadOrComputeTeacher, softenProbs, teacherProbs, trainingLoss, TEACHER_FILE } from '../../src/train/distill.js';
import { loadModel } from '../../src/model/io.js';
import { predictProbs } from '../../src/eval/probs.js';
import { UsageError } from '../../src/errors.js';
import type { Dataset } from '../../src/data/dataset.js';
import { saveFixtureModel } from '../fixture-model.js';
import { expectClose } from '../helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const rows = (a: ArrayLike<number>, k: number) => Array.from({ length: a.length / k }, (_, r) => Array.from(a).slice(r * k, r * k + k));

describe('softenProbs', () => {
  it('raises each row to 1/T and renormalizes (hand-computed)', () => {
    const p = Float32Array.from([0.5, 0.25, 0.25, 1, 0, 0]);
    const s = softenProbs(p, 2, 3);
    // √0.5 = 0.70711, √0.25 = 0.5; sum 1.70711.
    expectClose(s.slice(0, 3), [0.70711 / 1.70711, 0.5 / 1.70711, 0.5 / 1.70711], { atol: 1e-5 });
    expectClose(s.slice(3), [1, 0, 0], { atol: 1e-5 });
    expectClose(softenProbs(p, 1, 3), p, { atol: 1e-7 });
  });
});

describe('trainingLoss', () => {
  const p = [
    [0.7, 0.2, 0.1],
    [0.1, 0.3, 0.6],
  ];
  const y = [
    [1, 0, 0],
    [0, 0, 1],
  ];
  const q = [
    [0.5, 0.4, 0.1],
    [0.2, 0.2, 0.6],
  ];
  const ce = (t: number[], logits: number[]) => {
    const m = Math.max(...logits),
      z = Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0)) + m;
    return -t.reduce((s, ti, i) => s + ti * (logits[i] - z), 0);
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('is the cross-entropy without a teacher', () => {
    const l = tf.tidy(() => trainingLoss(tf.tensor2d(y), tf.tensor2d(p)).dataSync()[0]);
    expect(l).toBeCloseTo(mean([-Math.log(0.7), -Math.log(0.6)]), 5);
  });

  it('is (1 − α)·CE(labels, p) + α·T²·CE(soft, softmax(log p / T)) with one', () => {
    const alpha = 0.7,
      T = 2;
    const l = tf.tidy(() => trainingLoss(tf.tensor2d(y), tf.tensor2d(p), { soft: tf.tensor2d(q), alpha, temperature: T }).dataSync()[0]);
    const hard = mean(p.map((pi, i) => ce(y[i], pi.map(Math.log))));
    const soft = mean(
      p.map((pi, i) =>
        ce(
          q[i],
          pi.map((v) => Math.log(v) / T),
        ),
      ),
    );
    expect(l).toBeCloseTo((1 - alpha) * hard + alpha * T * T * soft, 5);
  });

  it('its gradient with α = 1, T = 1 pulls p toward the soft targets: ∂/∂logits = (p − q) / n', () => {
    const logits = tf.variable(tf.tensor2d(p.map((r) => r.map(Math.log))));
    const { grads } = tf.variableGrads(
      () => trainingLoss(tf.tensor2d(y), tf.softmax(logits), { soft: tf.tensor2d(q), alpha: 1, temperature: 1 }),
      [logits],
    );
    const g = Object.values(grads)[0].dataSync();
    expectClose(
      g,
      p.flatMap((pi, i) => pi.map((v, c) => (v - q[i][c]) / p.length)),
      { atol: 1e-5 },
    );
    logits.dispose();
  });
});

describe('teacher probabilities', () => {
  const n = 3,
    P = 48 * 48;
  const images = Uint8Array.from({ length: n * P }, (_, i) => (i * 37 + (i >> 7) * 11) % 256);
  let a: string, b: string;
  beforeAll(async () => {
    a = await saveFixtureModel(1);
    b = await saveFixtureModel(2);
  });

  it('an ensemble with flips is the mean over models and mirror images (mirrors built by hand)', async () => {
    const mirror = new Uint8Array(images.length);
    for (let k = 0; k < n; k++)
      for (let r = 0; r < 48; r++) for (let c = 0; c < 48; c++) mirror[k * P + r * 48 + c] = images[k * P + r * 48 + 47 - c];
    const expected = new Float32Array(n * 7);
    for (const m of [a, b]) {
      const { model } = await loadModel(m);
      for (const im of [images, mirror]) predictProbs(model, im, n, 'none').forEach((v, i) => (expected[i] += v / 4));
      model.dispose();
    }
    const got = await teacherProbs([a, b], { images, size: n }, 'flip', 7);
    expectClose(got, expected, { atol: 1e-5 });
    for (const r of rows(got, 7)) expect(r.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });

  it('are written to <run>/teacher.f32 and read back from it without the teachers (resume)', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'fer-distill-'));
    const ds = { images, size: n, classes: [...CLASSES] } as Dataset;
    const first = await loadOrComputeTeacher(out, [a], ds, 'none');
    expect(existsSync(path.join(out, TEACHER_FILE))).toBe(true);
    const again = await loadOrComputeTeacher(out, ['/no/such/teacher'], ds, 'none');
    expect(Array.from(again)).toEqual(Array.from(first));
    // Targets for another dataset are refused, not silently misaligned.
    await expect(loadOrComputeTeacher(out, [a], { images, size: n + 1, classes: [...CLASSES] } as Dataset, 'none')).rejects.toThrow(
      UsageError,
    );
    // A missing teacher is a usage error when there is nothing cached.
    const fresh = mkdtempSync(path.join(os.tmpdir(), 'fer-distill-'));
    await expect(loadOrComputeTeacher(fresh, ['/no/such/teacher'], ds, 'none')).rejects.toThrow(/no such model/);
  });
});
